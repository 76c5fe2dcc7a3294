package io.jxception.internal.backend;

/**
 * Device memory holding {@link #elements()} logical float values (the backend chooses the storage
 * type: fp32, or bf16/fp16 for activations in reduced-precision modes). Owned by the backend that
 * allocated it; closing it frees it (closing twice is harmless).
 */
public interface Buffer extends AutoCloseable {
    long elements();

    @Override
    void close();
}
