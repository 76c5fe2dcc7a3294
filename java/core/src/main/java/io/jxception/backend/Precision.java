package io.jxception.backend;

/** Arithmetic mode of a backend: what activations are stored in and what the tensor cores multiply. Immutable. */
public enum Precision {
    /** IEEE fp32 storage and arithmetic (the reference computes in fp64). */
    FP32,
    /** fp32 storage, tensor-core products with tf32 inputs (CUDA). */
    TF32,
    /** bf16 storage and tensor-core inputs, fp32 accumulation (CUDA). */
    BF16,
    /** fp16 storage and tensor-core inputs, fp32 accumulation (CUDA). */
    FP16;

    /**
     * The precision named {@code s} ("fp32", "tf32", "bf16" or "fp16", any case).
     *
     * @throws IllegalArgumentException for any other name
     */
    public static Precision parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown precision '" + s + "': expected fp32, tf32, bf16 or fp16");
        }
    }
}
