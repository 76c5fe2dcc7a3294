package io.jxception.bench;

import org.bytedeco.cuda.cudnn.cudnnActivationStruct;
import org.bytedeco.cuda.cudnn.cudnnContext;
import org.bytedeco.cuda.cudnn.cudnnConvolutionFwdAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionStruct;
import org.bytedeco.cuda.cudnn.cudnnFilterStruct;
import org.bytedeco.cuda.cudnn.cudnnPoolingStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.bytedeco.cuda.global.cudnn.*;

/**
 * Executes {@link CudnnPlan}s with cuDNN 9's legacy API through the JavaCPP CUDA 13 preset
 * (org.bytedeco:cuda 13.1-9.19-1.5.13; loaded only by {@link CudnnPeer}, by reflection). Per
 * launch: allocate the plan's buffers (random inputs and weights), make its descriptors (NHWC),
 * pick each convolution's algorithm with cudnnFindConvolutionForwardAlgorithm (fastest that
 * succeeds; one workspace of the largest size), then the warm-up calls and the timed ones, the whole
 * sequence of calls between two CUDA events on the legacy default stream, median.
 * <p>
 * Precisions, as cudnn_layers.py sets torch: fp32 strict (CUDNN_FMA_MATH: no TF32), tf32
 * (CUDNN_DEFAULT_MATH, which lets cuDNN use TF32 tensor cores), bf16 / fp16 (every tensor in that
 * type, CUDNN_TENSOR_OP_MATH, fp32 accumulation; batch-norm parameters fp32, as cuDNN requires).
 */
final class JavaCppCudnnLayers implements CudnnPeer.Timer {
    private final cudnnContext handle = new cudnnContext();
    private final String library, deviceName;
    private boolean closed;

    JavaCppCudnnLayers(int ordinal) {
        deviceName = JavaCppCuda.open(ordinal);      // libjnicudart: libcudart.so.13, libcuda.so.1
        check(cudnnCreate(handle), "cudnnCreate"); // libjnicudnn: libcudnn.so.9 and its sub-libraries
        library = "JavaCPP cuda 13.1-9.19-1.5.13, cuDNN " + cudnnGetVersion() + " legacy API, " + JavaCppCuda.runtimeVersion();
    }

    @Override public String library() { return library; }

    @Override public String device() { return deviceName; }

    /** One precision's descriptor types. */
    private record Types(int data, int math, JavaCppCuda.Element element) {
        static Types of(String precision) {
            return switch (precision) {
                case "fp32" -> new Types(CUDNN_DATA_FLOAT, CUDNN_FMA_MATH, JavaCppCuda.Element.FP32);
                case "tf32" -> new Types(CUDNN_DATA_FLOAT, CUDNN_DEFAULT_MATH, JavaCppCuda.Element.FP32);
                case "bf16" -> new Types(CUDNN_DATA_BFLOAT16, CUDNN_TENSOR_OP_MATH, JavaCppCuda.Element.BF16);
                case "fp16" -> new Types(CUDNN_DATA_HALF, CUDNN_TENSOR_OP_MATH, JavaCppCuda.Element.FP16);
                default -> throw new IllegalArgumentException("no cuDNN precision " + precision + ": expected fp32, tf32, bf16 or fp16");
            };
        }
    }

    @Override
    public Samples time(CudnnPlan plan, String precision, int warmup, int iterations) {
        Types types = Types.of(precision);
        List<Runnable> destroy = new ArrayList<>();
        try (JavaCppCuda.Arena arena = new JavaCppCuda.Arena();
             FloatPointer one = new FloatPointer(1f); FloatPointer zero = new FloatPointer(0f)) {
            Random rnd = new Random(plan.index());
            Map<CudnnPlan.Buffer, Pointer> memory = new IdentityHashMap<>(); // by identity: the plan's steps hold its buffers
            Map<CudnnPlan.Buffer, Pointer> descriptors = new IdentityHashMap<>();
            for (CudnnPlan.Buffer b : plan.buffers()) {
                switch (b.role()) {
                    case BN_PARAMS -> {
                        memory.put(b, arena.upload(bnParams(b.c(), rnd)));
                        descriptors.put(b, tensor(CUDNN_DATA_FLOAT, b, destroy));
                    }
                    case FILTER -> {
                        memory.put(b, arena.random(b.elements(), types.element(), rnd, b.scale()));
                        descriptors.put(b, filter(types.data(), b, destroy));
                    }
                    case TENSOR -> {
                        memory.put(b, b.random() ? arena.random(b.elements(), types.element(), rnd, b.scale()) : arena.alloc(b.elements(), types.element()));
                        descriptors.put(b, tensor(types.data(), b, destroy));
                    }
                }
            }
            List<ConvCall> convs = new ArrayList<>();
            List<Runnable> calls = new ArrayList<>();
            for (CudnnPlan.Step step : plan.steps()) {
                if (step instanceof CudnnPlan.Convolution c) {
                    ConvCall call = convolution(c, types, descriptors, memory, destroy);
                    convs.add(call);
                    calls.add(() -> call.run(one, zero));
                } else if (step instanceof CudnnPlan.Relu r) {
                    cudnnActivationStruct act = new cudnnActivationStruct();
                    check(cudnnCreateActivationDescriptor(act), "cudnnCreateActivationDescriptor");
                    destroy.add(() -> cudnnDestroyActivationDescriptor(act));
                    check(cudnnSetActivationDescriptor(act, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0), "cudnnSetActivationDescriptor");
                    cudnnTensorStruct in = (cudnnTensorStruct) descriptors.get(r.in()), out = (cudnnTensorStruct) descriptors.get(r.out());
                    Pointer x = memory.get(r.in()), y = memory.get(r.out());
                    calls.add(() -> check(cudnnActivationForward(handle, act, one, in, x, zero, out, y), "cudnnActivationForward"));
                } else if (step instanceof CudnnPlan.BatchNorm bn) {
                    cudnnTensorStruct in = (cudnnTensorStruct) descriptors.get(bn.in()), out = (cudnnTensorStruct) descriptors.get(bn.out());
                    cudnnTensorStruct pd = (cudnnTensorStruct) descriptors.get(bn.params());
                    Pointer x = memory.get(bn.in()), y = memory.get(bn.out()), p = memory.get(bn.params());
                    long c = bn.params().c();
                    // one fp32 buffer (4, C): gamma, beta, mean, variance
                    Pointer gamma = at(p, 0), beta = at(p, 4 * c), mean = at(p, 8 * c), var = at(p, 12 * c);
                    calls.add(() -> check(cudnnBatchNormalizationForwardInference(handle, CUDNN_BATCHNORM_SPATIAL, one, zero, in, x, out, y, pd,
                            gamma, beta, mean, var, 1e-3), "cudnnBatchNormalizationForwardInference"));
                } else if (step instanceof CudnnPlan.Add a) {
                    cudnnTensorStruct from = (cudnnTensorStruct) descriptors.get(a.from()), into = (cudnnTensorStruct) descriptors.get(a.into());
                    Pointer f = memory.get(a.from()), t = memory.get(a.into());
                    calls.add(() -> check(cudnnAddTensor(handle, one, from, f, one, into, t), "cudnnAddTensor")); // into = 1 · from + 1 · into
                } else if (step instanceof CudnnPlan.Pooling pool) {
                    cudnnPoolingStruct pd = new cudnnPoolingStruct();
                    check(cudnnCreatePoolingDescriptor(pd), "cudnnCreatePoolingDescriptor");
                    destroy.add(() -> cudnnDestroyPoolingDescriptor(pd));
                    check(cudnnSetPooling2dDescriptor(pd, pool.max() ? CUDNN_POOLING_MAX : CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING, CUDNN_NOT_PROPAGATE_NAN,
                            pool.windowH(), pool.windowW(), pool.pad(), pool.pad(), pool.stride(), pool.stride()), "cudnnSetPooling2dDescriptor");
                    cudnnTensorStruct in = (cudnnTensorStruct) descriptors.get(pool.in()), out = (cudnnTensorStruct) descriptors.get(pool.out());
                    Pointer x = memory.get(pool.in()), y = memory.get(pool.out());
                    calls.add(() -> check(cudnnPoolingForward(handle, pd, one, in, x, zero, out, y), "cudnnPoolingForward"));
                } else if (step instanceof CudnnPlan.Softmax s) {
                    cudnnTensorStruct d = (cudnnTensorStruct) descriptors.get(s.tensor());
                    Pointer x = memory.get(s.tensor());
                    calls.add(() -> check(cudnnSoftmaxForward(handle, CUDNN_SOFTMAX_ACCURATE, CUDNN_SOFTMAX_MODE_CHANNEL, one, d, x, zero, d, x),
                            "cudnnSoftmaxForward"));
                }
            }
            long workspaceBytes = 0;
            for (ConvCall c : convs) workspaceBytes = Math.max(workspaceBytes, c.find(handle));
            Pointer workspace = arena.alloc(workspaceBytes, JavaCppCuda.Element.BYTE);
            for (ConvCall c : convs) c.workspace(workspace, workspaceBytes);
            return Samples.of(JavaCppCuda.time(arena, () -> calls.forEach(Runnable::run), warmup, iterations));
        } finally {
            for (int i = destroy.size() - 1; i >= 0; i--) destroy.get(i).run();
        }
    }

    /** One convolution's descriptors and buffers; its algorithm and workspace are set by {@link #find} and {@link #workspace}. */
    private final class ConvCall {
        final cudnnTensorStruct in, out;
        final cudnnFilterStruct filter;
        final cudnnConvolutionStruct conv;
        final Pointer x, w, y;
        int algorithm = -1;
        Pointer workspace;
        long workspaceBytes;

        ConvCall(cudnnTensorStruct in, cudnnFilterStruct filter, cudnnConvolutionStruct conv, cudnnTensorStruct out, Pointer x, Pointer w, Pointer y) {
            this.in = in; this.filter = filter; this.conv = conv; this.out = out; this.x = x; this.w = w; this.y = y;
        }

        /** The fastest algorithm cuDNN finds (it times each with its own scratch memory); returns the workspace it needs. */
        long find(cudnnContext h) {
            int[] max = new int[1], returned = new int[1];
            check(cudnnGetConvolutionForwardAlgorithmMaxCount(h, max), "cudnnGetConvolutionForwardAlgorithmMaxCount");
            try (cudnnConvolutionFwdAlgoPerf_t perf = new cudnnConvolutionFwdAlgoPerf_t(max[0])) {
                check(cudnnFindConvolutionForwardAlgorithm(h, in, filter, conv, out, max[0], returned, perf), "cudnnFindConvolutionForwardAlgorithm");
                for (int i = 0; i < returned[0]; i++) {
                    cudnnConvolutionFwdAlgoPerf_t p = perf.getPointer(i);
                    if (p.status() == CUDNN_STATUS_SUCCESS) {
                        algorithm = p.algo();
                        return p.memory();
                    }
                }
            }
            throw new IllegalStateException("cudnnFindConvolutionForwardAlgorithm: no algorithm succeeded of " + returned[0] + " tried");
        }

        void workspace(Pointer p, long bytes) {
            workspace = p;
            workspaceBytes = bytes;
        }

        void run(Pointer one, Pointer zero) {
            check(cudnnConvolutionForward(handle, one, in, x, filter, w, conv, algorithm, workspace, workspaceBytes, zero, out, y), "cudnnConvolutionForward");
        }
    }

    private ConvCall convolution(CudnnPlan.Convolution c, Types types, Map<CudnnPlan.Buffer, Pointer> descriptors, Map<CudnnPlan.Buffer, Pointer> memory,
                                 List<Runnable> destroy) {
        cudnnConvolutionStruct conv = new cudnnConvolutionStruct();
        check(cudnnCreateConvolutionDescriptor(conv), "cudnnCreateConvolutionDescriptor");
        destroy.add(() -> cudnnDestroyConvolutionDescriptor(conv));
        // fp32 accumulation in every precision (torch's choice for bf16 / fp16 too)
        check(cudnnSetConvolution2dDescriptor(conv, c.pad(), c.pad(), c.stride(), c.stride(), 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
                "cudnnSetConvolution2dDescriptor");
        check(cudnnSetConvolutionGroupCount(conv, c.groups()), "cudnnSetConvolutionGroupCount(" + c.groups() + ")");
        check(cudnnSetConvolutionMathType(conv, types.math()), "cudnnSetConvolutionMathType");
        return new ConvCall((cudnnTensorStruct) descriptors.get(c.in()), (cudnnFilterStruct) descriptors.get(c.filter()), conv,
                (cudnnTensorStruct) descriptors.get(c.out()), memory.get(c.in()), memory.get(c.filter()), memory.get(c.out()));
    }

    /** (n, c, h, w) NHWC. */
    private static cudnnTensorStruct tensor(int dataType, CudnnPlan.Buffer b, List<Runnable> destroy) {
        cudnnTensorStruct d = new cudnnTensorStruct();
        check(cudnnCreateTensorDescriptor(d), "cudnnCreateTensorDescriptor");
        destroy.add(() -> cudnnDestroyTensorDescriptor(d));
        check(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NHWC, dataType, b.n(), b.c(), b.h(), b.w()),
                "cudnnSetTensor4dDescriptor(" + b.name() + " " + b.n() + "x" + b.c() + "x" + b.h() + "x" + b.w() + ")");
        return d;
    }

    /** (K, C / groups, R, S), NHWC: K, R, S, C / groups in memory. */
    private static cudnnFilterStruct filter(int dataType, CudnnPlan.Buffer b, List<Runnable> destroy) {
        cudnnFilterStruct d = new cudnnFilterStruct();
        check(cudnnCreateFilterDescriptor(d), "cudnnCreateFilterDescriptor");
        destroy.add(() -> cudnnDestroyFilterDescriptor(d));
        check(cudnnSetFilter4dDescriptor(d, dataType, CUDNN_TENSOR_NHWC, b.n(), b.c(), b.h(), b.w()),
                "cudnnSetFilter4dDescriptor(" + b.name() + " " + b.n() + "x" + b.c() + "x" + b.h() + "x" + b.w() + ")");
        return d;
    }

    /** (4, C) fp32: gamma in [0.9, 1.1], beta and mean in [-0.1, 0.1], variance in [0.5, 0.6] (never negative). */
    private static float[] bnParams(int c, Random rnd) {
        float[] p = new float[4 * c];
        for (int i = 0; i < c; i++) {
            p[i] = 1 + (float) (rnd.nextDouble() * 0.2 - 0.1);
            p[c + i] = (float) (rnd.nextDouble() * 0.2 - 0.1);
            p[2 * c + i] = (float) (rnd.nextDouble() * 0.2 - 0.1);
            p[3 * c + i] = 0.5f + (float) (rnd.nextDouble() * 0.1);
        }
        return p;
    }

    private static Pointer at(Pointer base, long bytes) {
        return new org.bytedeco.javacpp.BytePointer(base).position(bytes);
    }

    private static void check(int status, String call) {
        if (status != CUDNN_STATUS_SUCCESS) throw new IllegalStateException(call + " failed: " + cudnnGetErrorString(status).getString() + " (" + status + ")");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        cudnnDestroy(handle);
    }
}
