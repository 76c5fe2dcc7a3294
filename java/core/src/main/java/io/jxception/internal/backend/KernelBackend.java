package io.jxception.internal.backend;

import io.jxception.backend.Backend;
import io.jxception.backend.Backends;
import io.jxception.backend.DeviceMemoryException;
import io.jxception.backend.Precision;

import java.util.List;

/**
 * A device that runs Xception's fused ops. The executors ({@code io.jxception.internal.exec}) walks the graph
 * and calls these; every backend (Java reference, OpenCL, CUDA) implements the same list, with the
 * same argument order and layouts as the kernels in {@code cuda/} and {@code opencl/}.
 *
 * <p>Activations are NHWC float values; shapes are given on each method. Calls may be asynchronous:
 * {@link #download} and {@link #synchronize} wait for all earlier work. Output buffers never alias
 * inputs unless a method says so. A backend owns every buffer it allocates and frees them on close.
 * Not part of the public API: the public face is {@link Backend}.
 */
public interface KernelBackend extends Backend {
    /**
     * {@code backend} as the kernel interface every backend of this library implements.
     *
     * @throws IllegalArgumentException for a {@link Backend} that no jxception provider opened
     */
    static KernelBackend of(Backend backend) {
        if (backend instanceof KernelBackend k) return k;
        throw new IllegalArgumentException("backend " + (backend == null ? "null" : backend.getClass().getName())
                + " was not opened by jxception's Backends: open it with Backends.open");
    }

    /** {@link Backends#open} for the library's own code and tests, typed as the kernel interface. */
    static KernelBackend open(String spec, Precision precision) { return of(Backends.open(spec, precision)); }

    /** {@link Backends#cpu}, typed as the kernel interface. */
    static KernelBackend cpu() { return of(Backends.cpu()); }

    /** {@link Backends#openBest}, typed as the kernel interface. */
    static KernelBackend openBest(Precision precision) { return of(Backends.openBest(precision)); }

    /** Uninitialised device memory for {@code elements} floats. Throws {@link DeviceMemoryException} when it does not fit. */
    Buffer allocate(long elements);

    /**
     * Device memory for {@code elements} values that hold activations and their gradients only: what
     * kernels write as activations and read back (never an fp32 upload that must stay exact, never a
     * weight). A backend may store them narrower than fp32 (CUDA in BF16/FP16 mode: 2 bytes per element,
     * half of {@link #allocate}); the default is {@link #allocate}. Downloads read them as floats.
     */
    default Buffer allocateActivations(long elements) { return allocate(elements); }

    /** Copies {@code src[srcOffset .. srcOffset+count)} to {@code dst[dstOffset ..)}. */
    void upload(float[] src, int srcOffset, Buffer dst, long dstOffset, int count);

    default void upload(float[] src, Buffer dst) { upload(src, 0, dst, 0, src.length); }

    /**
     * Copies raw 8-bit values {@code src[srcOffset .. srcOffset+count)} (read as 0..255) into
     * {@code dst} as pixels [dstOffset, dstOffset+count) for {@link #convUint8}. A buffer holds one
     * pixel per element of its size, so the buffer that takes a float32 input batch takes the same
     * images as bytes; on a device they travel as one byte each, a quarter of the float32 traffic.
     * Afterwards the buffer's contents are meaningful only to {@link #convUint8}.
     */
    void uploadUint8(byte[] src, int srcOffset, Buffer dst, long dstOffset, int count);

    /** Copies {@code src[srcOffset .. srcOffset+count)} to {@code dst[dstOffset ..)}, waiting for earlier work. */
    void download(Buffer src, long srcOffset, float[] dst, int dstOffset, int count);

    default void download(Buffer src, float[] dst) { download(src, 0, dst, 0, dst.length); }

    void synchronize();

    // ---------------------------------------------------------------- forward

    /**
     * Fused convolution: y = epilogue( conv( preRelu ? relu(x) : x ) ).
     * x (n,h,w,cin); w1, w2 as {@link ConvSpec} describes (w2 null unless separable);
     * y (n,outH,outW,cout). The depthwise result of a separable conv never leaves the kernel.
     */
    void conv(ConvSpec spec, Buffer x, Buffer w1, Buffer w2, Epilogue epilogue, Buffer y);

    /**
     * The network's first convolution over raw 8-bit pixels: {@link #conv} with x (n,h,w,cin) taken
     * from {@code pixels} (written by {@link #uploadUint8}), each value v read as Keras'
     * {@code preprocess_input}, v / 127.5f − 1f in float32 (then stored as the activation type, as
     * an uploaded float input would be). That is exactly what the host computes for the float input
     * ({@link io.jxception.image.KerasPreprocessing#tf}), so the result equals {@link #conv} over the
     * preprocessed float input bit for bit. On CUDA and OpenCL the preprocessing runs inside the
     * convolution kernel. spec: a {@link io.jxception.model.ConvKind#CONV3X3_VALID} conv without preRelu
     * (Xception's block1_conv1); pixels (n,h,w,cin) uint8; w1 (3,3,cin,cout); y (n,outH,outW,cout).
     */
    void convUint8(ConvSpec spec, Buffer pixels, Buffer w1, Epilogue epilogue, Buffer y);

    /** The spec check every {@link #convUint8} starts with. */
    static void checkUint8Spec(ConvSpec spec) {
        if (spec.kind() != io.jxception.model.ConvKind.CONV3X3_VALID || spec.preRelu()) {
            throw new IllegalArgumentException("convUint8 runs the first convolution (a 3x3 'valid' conv without pre-ReLU), got " + spec);
        }
    }

    /**
     * Training-mode batch norm over z (rows, c): computes batch mean and 1/sqrt(var+eps) into
     * {@code mean}, {@code invStd} (c), writes y = relu?( (z-mean)·invStd·gamma + beta + residual ),
     * and updates {@code movingMean}, {@code movingVar} (c) in place with the spec's momentum.
     * residual (rows, c) only when {@code spec.residual()}.
     */
    void batchNormTrain(BatchNormSpec spec, Buffer z, Buffer gamma, Buffer beta, Buffer residual, Buffer y,
                        Buffer mean, Buffer invStd, Buffer movingMean, Buffer movingVar);

    /** y = maxpool3x3s2same(x) + residual. x (n,h,w,c); residual and y (n,outH,outW,c). residual may be null. */
    void maxPoolAdd(PoolSpec spec, Buffer x, Buffer residual, Buffer y);

    /** Head forward, see {@link HeadSpec}: x (n,h,w,C); kernel (C,classes), bias (classes) or null; y (n, classes|C). */
    void head(HeadSpec spec, Buffer x, Buffer kernel, Buffer bias, Buffer y);

    // ---------------------------------------------------------------- training

    /**
     * Head in training: logits = dense(avgpool(x)) over x (n,h,w,C); then softmax cross-entropy
     * against {@code labels} (n class indices stored as floats). Writes probs (n,classes),
     * per-example loss (n, unscaled), and the gradients: dX (n,h,w,C), dKernel (C,classes), dBias
     * (classes), all for {@code lossScale}·(the loss averaged over the batch). The scale multiplies
     * d loss / d logits in fp32 before anything is stored, so a reduced-precision dX and every
     * gradient derived from it keep small values above the storage type's underflow (mixed-precision
     * loss scaling; 1 for none; a power of two keeps the scaling exact).
     */
    void headTrain(HeadSpec spec, Buffer x, Buffer kernel, Buffer bias, Buffer labels, Buffer probs, Buffer loss,
                   Buffer dX, Buffer dKernel, Buffer dBias, float lossScale);

    /**
     * Backward of {@link #batchNormTrain}: given dy (rows,c) and the forward's z, y, mean, invStd,
     * writes dz (rows,c), dGamma, dBeta (c). The ReLU mask (y &gt; 0) is applied to dy first when
     * {@code spec.relu()}; if {@code dyMasked} is non-null the masked dy is also stored there
     * (it is the residual's gradient).
     */
    void batchNormTrainBackward(BatchNormSpec spec, Buffer z, Buffer y, Buffer dy, Buffer gamma, Buffer mean,
                                Buffer invStd, Buffer dz, Buffer dyMasked, Buffer dGamma, Buffer dBeta);

    /**
     * Backward of {@link #conv} with no epilogue: from dz (n,outH,outW,cout) writes dx (n,h,w,cin)
     * (null: not needed), dw1 and dw2 (shapes of w1, w2; overwritten, not accumulated). The ReLU on
     * the input is differentiated through (mask x &gt; 0) when {@code spec.preRelu()}.
     */
    void convBackward(ConvSpec spec, Buffer x, Buffer w1, Buffer w2, Buffer dz, Buffer dx, Buffer dw1, Buffer dw2);

    /** Backward of the max pool: routes dy (n,outH,outW,c) to the first maximum of each window into dx (n,h,w,c), which it overwrites. */
    void maxPoolBackward(PoolSpec spec, Buffer x, Buffer dy, Buffer dx);

    // ---------------------------------------------------------------- batch norm split for statistics over several processes

    /*
     * Synchronised batch norm (data-parallel training): batchNormTrain and batchNormTrainBackward
     * in two parts each, so that the per-channel sums can be added over every process between them
     * (Communicator.allreduceSum of c values). With one process and the sums passed through
     * unchanged, the parts compute what the fused ops compute. The sums cross the host in float64
     * (the reference keeps its float64 sums; device backends sum in fp32 partials and widen).
     *
     *   forward:   s1 = batchNormSums(z, null)          -> Σ over processes -> mean = s1 / R
     *              s2 = batchNormSums(z, mean)          -> Σ over processes -> var  = s2 / R  (biased)
     *              batchNormApply(z, mean, var, ...)    y, mean, invStd, moving statistics
     *   backward:  batchNormBackwardSums(...)           -> Σ over processes: dGamma, dBeta of the whole batch
     *              batchNormBackwardApply(R, ...)       dz (and dyMasked) of this process's rows
     *
     * R is the row count of every process together (N·H·W summed over processes).
     */

    /**
     * Per-channel sums over the spec's rows of z (rows, c): {@code sums[ch] = Σ_r z[r,ch]} when
     * {@code mean} is null, else {@code Σ_r (z[r,ch] − mean[ch])²}. Waits for earlier work (the sums
     * are on the host when it returns). {@code spec.relu()} and {@code spec.residual()} play no part.
     */
    void batchNormSums(BatchNormSpec spec, Buffer z, double[] mean, double[] sums);

    /**
     * The rest of {@link #batchNormTrain} given the batch statistics of every process: writes
     * {@code mean} and {@code invStd = 1/sqrt(variance + eps)} into {@code meanOut}, {@code invStdOut} (c)
     * for the backward pass, y = relu?( (z-mean)·invStd·gamma + beta + residual ) over the spec's rows, and
     * updates {@code movingMean}, {@code movingVar} with {@code mean} and the biased {@code variance}.
     */
    void batchNormApply(BatchNormSpec spec, Buffer z, double[] mean, double[] variance, Buffer gamma, Buffer beta, Buffer residual,
                        Buffer y, Buffer meanOut, Buffer invStdOut, Buffer movingMean, Buffer movingVar);

    /**
     * Per-channel sums of {@link #batchNormTrainBackward} over the spec's rows: {@code dBeta = Σ g},
     * {@code dGamma = Σ g·x̂} with g = relu ? dy·[y &gt; 0] : dy and x̂ = (z − mean)·invStd. Waits for
     * earlier work (the sums are on the host when it returns).
     */
    void batchNormBackwardSums(BatchNormSpec spec, Buffer z, Buffer y, Buffer dy, Buffer mean, Buffer invStd, double[] dGamma, double[] dBeta);

    /**
     * The rest of {@link #batchNormTrainBackward} given {@code dGammaSum}, {@code dBetaSum} over
     * {@code statisticsRows} rows of every process: dz = gamma·invStd/R·(R·g − dBeta − x̂·dGamma) for
     * the spec's rows, g into {@code dyMasked} when non-null, and the sums into {@code dGamma},
     * {@code dBeta} (c): the BN weights' gradients of the whole batch.
     */
    void batchNormBackwardApply(BatchNormSpec spec, long statisticsRows, Buffer z, Buffer y, Buffer dy, Buffer gamma, Buffer mean,
                                Buffer invStd, double[] dGammaSum, double[] dBetaSum, Buffer dz, Buffer dyMasked, Buffer dGamma, Buffer dBeta);

    // ---------------------------------------------------------------- elementwise

    /** dst[i] += src[i] for i &lt; count (gradient accumulation across a residual fork). */
    void addInPlace(Buffer dst, Buffer src, long count);

    /**
     * SGD with momentum and L2 weight decay (Keras/PyTorch form):
     * g = grad + weightDecay·param; velocity = momentum·velocity + g; param -= lr·velocity.
     * param and velocity are stored as fp32 values on every backend (the float64 reference rounds
     * them), as are batch norm's moving statistics: a checkpoint then holds the exact state.
     */
    void sgdUpdate(Buffer param, Buffer grad, Buffer velocity, long count, float lr, float momentum, float weightDecay);

    /**
     * Unscaling for mixed-precision loss scaling, in place: grad[i] *= factor for i &lt; count (fp32
     * weight gradients). If any result is Inf or NaN it sets {@code overflow[0] = 1}, otherwise it
     * leaves {@code overflow} (1 float) as it is, so one flag, zeroed once and passed to the calls for
     * every gradient of a step, answers "did this step overflow?" with one small download.
     */
    void unscaleGradient(Buffer grad, long count, float factor, Buffer overflow);

    /**
     * Plans {@link #sgdUpdate} and {@link #unscaleGradient} over all of {@code weights} at once (a
     * training session's whole optimizer step). The default runs the per-tensor ops one by one; a
     * backend may override it to run every weight in one launch, with bitwise the same results. The
     * buffers must stay allocated while the plan is used.
     */
    default WeightUpdate weightUpdate(List<WeightUpdate.Weight> weights) {
        return new PerTensorWeightUpdate(this, weights);
    }

    @Override
    void close();
}
