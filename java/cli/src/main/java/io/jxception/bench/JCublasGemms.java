package io.jxception.bench;

import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.cudaDataType;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasComputeType;
import jcuda.jcublas.cublasGemmAlgo;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasOperation;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * cublasGemmEx on the network's pointwise GEMMs through JCublas 12.6.0 (loaded only by
 * {@link CublasPeer}, by reflection: this is the one class that names JCublas).
 * <p>
 * Row-major C (m × n) = A (m × k) · B (k × n) is, in cuBLAS's column-major terms,
 * Cᵀ (n × m) = Bᵀ (n × k) · Aᵀ (k × m) with no transposes: cublasGemmEx(N, N, n, m, k, B, ldb = n,
 * A, lda = k, C, ldc = n). Precisions: fp32 (CUBLAS_COMPUTE_32F), tf32 (fp32 storage,
 * CUBLAS_COMPUTE_32F_FAST_TF32), bf16 (CUDA_R_16BF in and out, CUBLAS_COMPUTE_32F accumulation).
 * Times: CUDA events on the handle's (default) stream around each call, warm-up first, median.
 * Works in the device's primary context, which the runtime API inside cuBLAS also uses.
 */
final class JCublasGemms implements CublasPeer.Timer {
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final cublasHandle handle = new cublasHandle();
    private final String library, deviceName;
    private boolean closed;

    JCublasGemms(int ordinal) {
        JCudaDriver.setExceptionsEnabled(true);
        JCublas2.setExceptionsEnabled(true);
        JCublas2.initialize(); // loads libJCublas2, which needs libcublas.so.12: the usual failure
        JCudaDriver.cuInit(0);
        JCudaDriver.cuDeviceGet(device, ordinal);
        JCudaDriver.cuDevicePrimaryCtxRetain(context, device);
        JCudaDriver.cuCtxPushCurrent(context);
        int[] version = new int[1];
        try {
            JCublas2.cublasCreate(handle);
            JCublas2.cublasGetVersion(handle, version);
        } catch (RuntimeException e) {
            JCudaDriver.cuCtxPopCurrent(new CUcontext());
            JCudaDriver.cuDevicePrimaryCtxRelease(device);
            throw e;
        }
        byte[] name = new byte[256];
        JCudaDriver.cuDeviceGetName(name, name.length, device);
        String n = new String(name, java.nio.charset.StandardCharsets.US_ASCII);
        deviceName = "cuda:" + ordinal + " (" + (n.indexOf('\0') >= 0 ? n.substring(0, n.indexOf('\0')) : n).strip() + ")";
        library = "JCublas 12.6.0 cublasGemmEx, cuBLAS " + version[0];
    }

    @Override public String library() { return library; }

    @Override public String device() { return deviceName; }

    @Override
    public List<GemmPeerResult> time(List<PointwiseGemm> gemms, String precision, int batch, int warmup, int iterations, List<String> notes) {
        int dataType, computeType, bytes;
        switch (precision) {
            case "fp32" -> { dataType = cudaDataType.CUDA_R_32F; computeType = cublasComputeType.CUBLAS_COMPUTE_32F; bytes = Sizeof.FLOAT; }
            case "tf32" -> { dataType = cudaDataType.CUDA_R_32F; computeType = cublasComputeType.CUBLAS_COMPUTE_32F_FAST_TF32; bytes = Sizeof.FLOAT; }
            case "bf16" -> { dataType = cudaDataType.CUDA_R_16BF; computeType = cublasComputeType.CUBLAS_COMPUTE_32F; bytes = Sizeof.SHORT; }
            default -> {
                notes.add("cuBLAS (JCublas) has no " + precision + " GEMM here; skipped");
                return List.of();
            }
        }
        Random rnd = new Random(5);
        JCudaDriver.cuCtxPushCurrent(context);
        try {
            return CublasPeer.timeEachShape(this, gemms, precision, batch, g -> timeOne(g, dataType, computeType, bytes, warmup, iterations, rnd));
        } finally {
            JCudaDriver.cuCtxPopCurrent(new CUcontext());
        }
    }

    private Samples timeOne(PointwiseGemm g, int dataType, int computeType, int bytes, int warmup, int iterations, Random rnd) {
        int m = Math.toIntExact(g.m()), n = g.n(), k = g.k();
        List<CUdeviceptr> allocated = new ArrayList<>();
        CUevent start = new CUevent(), end = new CUevent();
        int events = 0;
        try {
            CUdeviceptr a = alloc(allocated, (long) m * k, bytes, rnd, 1.0);              // (m, k) activations
            CUdeviceptr b = alloc(allocated, (long) k * n, bytes, rnd, 1.0 / Math.sqrt(k)); // (k, n) 1x1 kernel
            CUdeviceptr c = alloc(allocated, (long) m * n, bytes, null, 0);              // (m, n)
            JCudaDriver.cuEventCreate(start, 0);
            events++;
            JCudaDriver.cuEventCreate(end, 0);
            events++;
            Pointer alpha = Pointer.to(new float[]{1f}), beta = Pointer.to(new float[]{0f});
            Runnable gemm = () -> JCublas2.cublasGemmEx(handle, cublasOperation.CUBLAS_OP_N, cublasOperation.CUBLAS_OP_N, n, m, k,
                    alpha, b, dataType, n, a, dataType, k, beta, c, dataType, n, computeType, cublasGemmAlgo.CUBLAS_GEMM_DEFAULT);
            for (int i = 0; i < warmup; i++) gemm.run();
            double[] seconds = new double[iterations];
            float[] ms = new float[1];
            CUstream stream = new CUstream(); // the legacy default stream, the handle's
            for (int i = 0; i < iterations; i++) {
                JCudaDriver.cuEventRecord(start, stream);
                gemm.run();
                JCudaDriver.cuEventRecord(end, stream);
                JCudaDriver.cuEventSynchronize(end);
                JCudaDriver.cuEventElapsedTime(ms, start, end);
                seconds[i] = ms[0] * 1e-3;
            }
            return Samples.of(seconds);
        } finally {
            JCudaDriver.cuCtxSynchronize();
            if (events > 0) JCudaDriver.cuEventDestroy(start);
            if (events > 1) JCudaDriver.cuEventDestroy(end);
            for (CUdeviceptr p : allocated) JCudaDriver.cuMemFree(p);
        }
    }

    /** elements × bytes on the device, uniform in [-scale, scale] (fp32, or bf16 = the fp32's top 16 bits); null rnd: left unset (outputs). */
    private static CUdeviceptr alloc(List<CUdeviceptr> owner, long elements, int bytes, Random rnd, double scale) {
        CUdeviceptr p = new CUdeviceptr();
        JCudaDriver.cuMemAlloc(p, elements * bytes);
        owner.add(p);
        if (rnd == null) return p;
        int chunk = (int) Math.min(elements, 1 << 20);
        float[] f = new float[chunk];
        short[] h = new short[chunk];
        for (int i = 0; i < chunk; i++) {
            f[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
            h[i] = (short) (Float.floatToRawIntBits(f[i]) >>> 16);
        }
        Pointer host = bytes == Sizeof.FLOAT ? Pointer.to(f) : Pointer.to(h);
        for (long off = 0; off < elements; off += chunk) {
            long count = Math.min(chunk, elements - off);
            JCudaDriver.cuMemcpyHtoD(p.withByteOffset(off * bytes), host, count * bytes);
        }
        return p;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        JCublas2.cublasDestroy(handle);
        JCudaDriver.cuCtxPopCurrent(new CUcontext());
        JCudaDriver.cuDevicePrimaryCtxRelease(device);
    }
}
