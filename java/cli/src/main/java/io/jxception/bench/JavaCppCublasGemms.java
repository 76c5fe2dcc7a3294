package io.jxception.bench;

import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

import java.util.List;
import java.util.Random;

import static org.bytedeco.cuda.global.cublas.*;
import static org.bytedeco.cuda.global.cudart.CUDA_R_16BF;
import static org.bytedeco.cuda.global.cudart.CUDA_R_32F;

/**
 * cublasGemmEx on the network's pointwise GEMMs through the JavaCPP CUDA 13 preset
 * (org.bytedeco:cuda 13.1-9.19-1.5.13: cuBLAS 13; loaded only by {@link CublasPeer}, by reflection:
 * with {@link JavaCppCuda} and {@link JavaCppCudnnLayers}, the only classes that name org.bytedeco).
 * The same GEMMs, precisions and timing as {@link JCublasGemms}:
 * <p>
 * Row-major C (m × n) = A (m × k) · B (k × n) is, in cuBLAS's column-major terms,
 * Cᵀ (n × m) = Bᵀ (n × k) · Aᵀ (k × m) with no transposes: cublasGemmEx(N, N, n, m, k, B, ldb = n,
 * A, lda = k, C, ldc = n). Precisions: fp32 (CUBLAS_COMPUTE_32F), tf32 (fp32 storage,
 * CUBLAS_COMPUTE_32F_FAST_TF32), bf16 (CUDA_R_16BF in and out, CUBLAS_COMPUTE_32F accumulation).
 * Times: CUDA events on the legacy default stream (the handle's) around each call, warm-up first, median.
 */
final class JavaCppCublasGemms implements CublasPeer.Timer {
    private final cublasContext handle = new cublasContext();
    private final String library, deviceName;
    private boolean closed;

    JavaCppCublasGemms(int ordinal) {
        deviceName = JavaCppCuda.open(ordinal); // loads libjnicudart: libcudart.so.13, libcuda.so.1
        check(cublasCreate_v2(handle), "cublasCreate"); // loads libjnicublas: libcublas.so.13, libcublasLt.so.13
        int[] version = new int[1];
        check(cublasGetVersion_v2(handle, version), "cublasGetVersion");
        library = "JavaCPP cuda 13.1-9.19-1.5.13 cublasGemmEx, cuBLAS " + version[0];
    }

    @Override public String library() { return library; }

    @Override public String device() { return deviceName; }

    @Override
    public List<GemmPeerResult> time(List<PointwiseGemm> gemms, String precision, int batch, int warmup, int iterations, List<String> notes) {
        int dataType, computeType;
        JavaCppCuda.Element element;
        switch (precision) {
            case "fp32" -> { dataType = CUDA_R_32F; computeType = CUBLAS_COMPUTE_32F; element = JavaCppCuda.Element.FP32; }
            case "tf32" -> { dataType = CUDA_R_32F; computeType = CUBLAS_COMPUTE_32F_FAST_TF32; element = JavaCppCuda.Element.FP32; }
            case "bf16" -> { dataType = CUDA_R_16BF; computeType = CUBLAS_COMPUTE_32F; element = JavaCppCuda.Element.BF16; }
            default -> {
                notes.add("cuBLAS (JavaCPP) has no " + precision + " GEMM here; skipped");
                return List.of();
            }
        }
        Random rnd = new Random(5);
        return CublasPeer.timeEachShape(this, gemms, precision, batch, g -> timeOne(g, dataType, computeType, element, warmup, iterations, rnd));
    }

    private Samples timeOne(PointwiseGemm g, int dataType, int computeType, JavaCppCuda.Element element, int warmup, int iterations, Random rnd) {
        int m = Math.toIntExact(g.m()), n = g.n(), k = g.k();
        try (JavaCppCuda.Arena arena = new JavaCppCuda.Arena();
             FloatPointer alpha = new FloatPointer(1f); FloatPointer beta = new FloatPointer(0f)) {
            Pointer a = arena.random((long) m * k, element, rnd, 1.0);              // (m, k) activations
            Pointer b = arena.random((long) k * n, element, rnd, 1.0 / Math.sqrt(k)); // (k, n) 1x1 kernel
            Pointer c = arena.alloc((long) m * n, element);                          // (m, n)
            Runnable gemm = () -> check(cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k,
                    alpha, b, dataType, n, a, dataType, k, beta, c, dataType, n, computeType, CUBLAS_GEMM_DEFAULT), "cublasGemmEx");
            return Samples.of(JavaCppCuda.time(arena, gemm, warmup, iterations));
        }
    }

    private static void check(int status, String call) {
        if (status != CUBLAS_STATUS_SUCCESS) throw new IllegalStateException(call + " failed: " + cublasGetStatusName(status).getString() + " (" + status + ")");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        cublasDestroy_v2(handle);
    }
}
