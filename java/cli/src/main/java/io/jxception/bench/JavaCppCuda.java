package io.jxception.bench;

import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.ShortPointer;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.bytedeco.cuda.global.cudart.*;

/**
 * The CUDA runtime side of the JavaCPP peers ({@link JavaCppCublasGemms}, {@link JavaCppCudnnLayers}):
 * device selection, device memory filled with random values, event timing. Loaded only through
 * those classes, which are loaded only by reflection: touching {@code cudart} loads libjnicudart,
 * which needs libcudart.so.13 and libcuda.so.1 (the usual failure off a GPU machine).
 * <p>
 * Everything allocated goes into one {@link Arena}, freed in reverse order after each timed case.
 */
final class JavaCppCuda {
    private JavaCppCuda() {}

    /** Element types of device buffers: 4 bytes (fp32), or 2 (bf16 / fp16: the top 16 bits of the fp32 value, or its IEEE half). */
    enum Element {
        FP32(4), BF16(2), FP16(2), BYTE(1);

        final int bytes;

        Element(int bytes) { this.bytes = bytes; }
    }

    /** Makes {@code ordinal} the current device and names it: "cuda:0 (NVIDIA H200)". */
    static String open(int ordinal) {
        int[] count = new int[1];
        check(cudaGetDeviceCount(count), "cudaGetDeviceCount");
        if (ordinal >= count[0]) throw new IllegalStateException("CUDA device " + ordinal + " asked, " + count[0] + " present");
        check(cudaSetDevice(ordinal), "cudaSetDevice(" + ordinal + ")");
        try (cudaDeviceProp p = new cudaDeviceProp()) {
            check(cudaGetDeviceProperties(p, ordinal), "cudaGetDeviceProperties");
            return "cuda:" + ordinal + " (" + p.name().getString().strip() + ")";
        }
    }

    /** "CUDA runtime 13010": the libcudart that loaded. */
    static String runtimeVersion() {
        int[] v = new int[1];
        check(cudaRuntimeGetVersion(v), "cudaRuntimeGetVersion");
        return "CUDA runtime " + v[0];
    }

    static void check(int status, String call) {
        if (status != cudaSuccess) throw new IllegalStateException(call + " failed: " + cudaGetErrorString(status).getString() + " (" + status + ")");
    }

    /** Device buffers and events of one timed case, released in reverse order of creation. */
    static final class Arena implements AutoCloseable {
        private final List<Pointer> buffers = new ArrayList<>();
        private final List<CUevent_st> events = new ArrayList<>();

        /** elements × type bytes on the device, left unset (outputs, workspaces); 0 elements: a null pointer. */
        Pointer alloc(long elements, Element type) {
            Pointer p = new Pointer();
            if (elements == 0) return p;
            check(cudaMalloc(p, elements * type.bytes), "cudaMalloc(" + elements * type.bytes + " bytes)");
            buffers.add(p);
            return p;
        }

        /** elements of {@code type} uniform in [-scale, scale]: a 1 Mi-element random block repeated (speed does not depend on the values). */
        Pointer random(long elements, Element type, Random rnd, double scale) {
            Pointer p = alloc(elements, type);
            int chunk = (int) Math.min(elements, 1 << 20);
            Pointer host = hostBlock(chunk, type, rnd, scale);
            try {
                for (long off = 0; off < elements; off += chunk) {
                    long count = Math.min(chunk, elements - off);
                    Pointer at = new BytePointer(p).position(off * type.bytes);
                    check(cudaMemcpy(at, host, count * type.bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
                }
            } finally {
                host.close();
            }
            return p;
        }

        /** A copy of {@code values} on the device (fp32). */
        Pointer upload(float[] values) {
            Pointer p = alloc(values.length, Element.FP32);
            try (FloatPointer host = new FloatPointer(values)) {
                check(cudaMemcpy(p, host, 4L * values.length, cudaMemcpyHostToDevice), "cudaMemcpy");
            }
            return p;
        }

        CUevent_st event() {
            CUevent_st e = new CUevent_st();
            check(cudaEventCreate(e), "cudaEventCreate");
            events.add(e);
            return e;
        }

        @Override
        public void close() {
            cudaDeviceSynchronize();
            for (int i = events.size() - 1; i >= 0; i--) cudaEventDestroy(events.get(i));
            for (int i = buffers.size() - 1; i >= 0; i--) cudaFree(buffers.get(i));
            events.clear();
            buffers.clear();
        }
    }

    private static Pointer hostBlock(int elements, Element type, Random rnd, double scale) {
        float[] f = new float[elements];
        for (int i = 0; i < elements; i++) f[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
        if (type == Element.FP32) return new FloatPointer(f);
        short[] h = new short[elements];
        for (int i = 0; i < elements; i++) {
            h[i] = type == Element.BF16 ? (short) (Float.floatToRawIntBits(f[i]) >>> 16) : half(f[i]);
        }
        return new ShortPointer(h);
    }

    /** IEEE half of f, mantissa truncated; below 2^-14 it is a signed zero (Float.floatToFloat16 is Java 20, we build for 17). */
    static short half(float f) {
        int bits = Float.floatToRawIntBits(f), sign = (bits >>> 16) & 0x8000, exp = ((bits >>> 23) & 0xff) - 127 + 15;
        if (exp <= 0) return (short) sign;
        if (exp >= 31) return (short) (sign | 0x7c00);
        return (short) (sign | exp << 10 | (bits & 0x7fffff) >>> 13);
    }

    /**
     * Median-ready times of {@code call}: {@code warmup} untimed calls, then {@code iterations} each
     * between two events on the legacy default stream (the one cuBLAS and cuDNN handles use unless
     * given another), in seconds.
     */
    static double[] time(Arena arena, Runnable call, int warmup, int iterations) {
        for (int i = 0; i < warmup; i++) call.run();
        check(cudaDeviceSynchronize(), "cudaDeviceSynchronize after the warm-up");
        CUevent_st start = arena.event(), end = arena.event();
        double[] seconds = new double[iterations];
        float[] ms = new float[1];
        for (int i = 0; i < iterations; i++) {
            check(cudaEventRecord(start, null), "cudaEventRecord");
            call.run();
            check(cudaEventRecord(end, null), "cudaEventRecord");
            check(cudaEventSynchronize(end), "cudaEventSynchronize");
            check(cudaEventElapsedTime(ms, start, end), "cudaEventElapsedTime");
            seconds[i] = ms[0] * 1e-3;
        }
        return seconds;
    }
}
