package io.jxception.internal.backend.cpu;

import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.backend.BatchNormSpec;
import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.backend.DeviceMemoryException;
import io.jxception.internal.backend.Epilogue;
import io.jxception.internal.backend.HeadSpec;
import io.jxception.internal.backend.PoolSpec;
import io.jxception.backend.Precision;
import io.jxception.image.KerasPreprocessing;
import io.jxception.model.Pooling;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * The Java reference backend: every {@link KernelBackend} op composed from the float64 reference ops
 * ({@link ConvOps}, {@link BatchNormOps}, {@link PoolOps}, {@link HeadOps}, {@link ElementwiseOps}).
 * Buffers hold float64; {@link #upload} and {@link #download} round through float32, and so does the
 * training state that outlives a step (weights and momentum in {@link #sgdUpdate}, moving statistics
 * in {@link #batchNormTrain}), as every backend and the checkpoint file store it. Calls run
 * synchronously on a thread pool this instance owns (shut down by {@link #close}); ops keep no state
 * between calls, so sessions on several threads may share one instance.
 *
 * <p>Buffers may be larger than an op needs (an executor sized for a bigger batch); only the leading
 * elements the spec describes are read and written.
 */
public final class CpuBackend implements KernelBackend {
    private final Parallel par;
    private final Set<CpuBuffer> live = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));
    private volatile boolean closed;

    /** A backend using every available processor. */
    public CpuBackend() { this(Runtime.getRuntime().availableProcessors()); }

    public CpuBackend(int threads) { this.par = Parallel.of(threads); }

    public int threads() { return par.threads(); }

    @Override
    public String name() { return "cpu"; }

    @Override
    public String description() {
        return "Java reference (" + par.threads() + (par.threads() == 1 ? " thread" : " threads") + "), float64 arithmetic, float32 transfers";
    }

    @Override
    public Precision precision() { return Precision.FP32; }

    @Override
    public Buffer allocate(long elements) {
        checkOpen();
        if (elements < 0) throw new IllegalArgumentException("cannot allocate a negative number of elements: " + elements);
        if (elements > Integer.MAX_VALUE - 8) {
            throw new DeviceMemoryException("CPU buffer of " + elements + " values (" + elements * 8 + " bytes as float64) exceeds the Java array limit of "
                    + (Integer.MAX_VALUE - 8) + " elements: use a smaller batch");
        }
        double[] data;
        try {
            data = new double[(int) elements];
        } catch (OutOfMemoryError e) {
            throw new DeviceMemoryException("CPU buffer of " + elements * 8 + " bytes (float64) does not fit in the Java heap (max "
                    + Runtime.getRuntime().maxMemory() + " bytes): raise -Xmx or use a smaller batch");
        }
        CpuBuffer b = new CpuBuffer(this, data);
        live.add(b);
        return b;
    }

    /**
     * The live float64 storage of a buffer of this backend (its length is {@link Buffer#elements()}).
     * For tests and float64 checks: writes go straight into the buffer, bypassing float32 rounding.
     */
    public double[] doubles(Buffer buffer) { return data(buffer, "buffer"); }

    @Override
    public void upload(float[] src, int srcOffset, Buffer dst, long dstOffset, int count) {
        double[] d = data(dst, "upload destination");
        checkRange("upload", src.length, srcOffset, d.length, dstOffset, count);
        for (int i = 0; i < count; i++) d[(int) dstOffset + i] = src[srcOffset + i];
    }

    /** Stores each byte as its value 0..255 (exact in float64); {@link #convUint8} preprocesses them. */
    @Override
    public void uploadUint8(byte[] src, int srcOffset, Buffer dst, long dstOffset, int count) {
        double[] d = data(dst, "uploadUint8 destination");
        checkRange("uploadUint8", src.length, srcOffset, d.length, dstOffset, count);
        for (int i = 0; i < count; i++) d[(int) dstOffset + i] = src[srcOffset + i] & 0xff;
    }

    @Override
    public void download(Buffer src, long srcOffset, float[] dst, int dstOffset, int count) {
        double[] s = data(src, "download source");
        checkRange("download", dst.length, dstOffset, s.length, srcOffset, count);
        for (int i = 0; i < count; i++) dst[dstOffset + i] = (float) s[(int) srcOffset + i];
    }

    @Override
    public void synchronize() { checkOpen(); }

    // ---------------------------------------------------------------- forward

    @Override
    public void conv(ConvSpec spec, Buffer x, Buffer w1, Buffer w2, Epilogue epilogue, Buffer y) {
        if (epilogue == null) throw new IllegalArgumentException("conv: epilogue is null; pass Epilogue.NONE for a raw convolution");
        ConvInputs in = convInputs("conv", spec, x, w1, w2);
        int cout = spec.cout(), rows = spec.n() * spec.outH() * spec.outW();
        double[] yd = data(y, "conv y", spec.outputElements(), "(n,outH,outW,cout) = " + outShape(spec));
        double[] scale = null, shift = null, residual = null;
        if (epilogue.scale() != null) {
            scale = data(epilogue.scale(), "conv epilogue scale", cout, "(cout)");
            shift = data(epilogue.shift(), "conv epilogue shift", cout, "(cout)");
        }
        if (epilogue.residual() != null) residual = data(epilogue.residual(), "conv epilogue residual", spec.outputElements(), "(n,outH,outW,cout) = " + outShape(spec));
        double[] xin = in.preReluX(); // (n,h,w,cin)
        switch (spec.kind()) {
            case CONV3X3_VALID -> ConvOps.conv3x3Valid(par, xin, spec.n(), spec.h(), spec.w(), spec.cin(), in.w1(), cout, spec.stride(), yd);
            case CONV1X1_SAME -> ConvOps.conv1x1Same(par, xin, spec.n(), spec.h(), spec.w(), spec.cin(), in.w1(), cout, spec.stride(), yd);
            case SEPARABLE3X3_SAME -> {
                double[] depthwiseOut = new double[Math.toIntExact(spec.inputElements())]; // (n,h,w,cin)
                ConvOps.depthwise3x3Same(par, xin, spec.n(), spec.h(), spec.w(), spec.cin(), in.w1(), depthwiseOut);
                ConvOps.pointwise(par, depthwiseOut, spec.n() * spec.h() * spec.w(), spec.cin(), in.w2(), cout, yd);
            }
        }
        BatchNormOps.affine(yd, rows, cout, scale, shift, residual, epilogue.relu(), yd);
    }

    /**
     * The reference: each pixel v becomes {@link KerasPreprocessing#tf}(v) in float32, exactly what the
     * host computes for the float input, then {@link #conv} runs on those values.
     */
    @Override
    public void convUint8(ConvSpec spec, Buffer pixels, Buffer w1, Epilogue epilogue, Buffer y) {
        KernelBackend.checkUint8Spec(spec);
        double[] raw = data(pixels, "convUint8 pixels", spec.inputElements(), "(n,h,w,cin) = " + inShape(spec));
        CpuBuffer x = (CpuBuffer) allocate(spec.inputElements());
        try {
            double[] xd = x.data();   // (n,h,w,cin) preprocessed
            for (int i = 0; i < xd.length; i++) xd[i] = KerasPreprocessing.tf((float) raw[i]);
            conv(spec, x, w1, null, epilogue, y);
        } finally {
            x.close();
        }
    }

    @Override
    public void batchNormTrain(BatchNormSpec spec, Buffer z, Buffer gamma, Buffer beta, Buffer residual, Buffer y,
                               Buffer mean, Buffer invStd, Buffer movingMean, Buffer movingVar) {
        int rows = bnRows(spec), c = spec.channels();
        String shape = "(rows,c) = (" + rows + "," + c + ")";
        double[] zd = data(z, "batchNormTrain z", spec.elements(), shape);
        double[] yd = data(y, "batchNormTrain y", spec.elements(), shape);
        double[] res = bnResidual("batchNormTrain", spec, residual, shape);
        double[] g = data(gamma, "batchNormTrain gamma", c, "(c)");
        double[] b = data(beta, "batchNormTrain beta", c, "(c)");
        double[] m = data(mean, "batchNormTrain mean", c, "(c)");
        double[] is = data(invStd, "batchNormTrain invStd", c, "(c)");
        double[] mm = data(movingMean, "batchNormTrain movingMean", c, "(c)");
        double[] mv = data(movingVar, "batchNormTrain movingVar", c, "(c)");
        double[] var = new double[c];
        BatchNormOps.moments(zd, rows, c, m, var);
        BatchNormOps.invStd(var, c, spec.epsilon(), is);
        BatchNormOps.trainForward(zd, rows, c, m, is, g, b, res, spec.relu(), yd);
        BatchNormOps.updateMoving(mm, m, c, spec.momentum());
        BatchNormOps.updateMoving(mv, var, c, spec.momentum());
        roundToFloat(mm, c);
        roundToFloat(mv, c);
    }

    /**
     * Training state that outlives a step (weights, moving statistics, momentum) is kept at fp32
     * values, as the other backends and the checkpoint file store it: computed in float64, rounded
     * once when stored. Otherwise writing a checkpoint (and resuming from it) would round the state
     * where the uninterrupted run does not, and the final weights would depend on how often
     * checkpoints are taken.
     */
    private static void roundToFloat(double[] v, int count) {
        for (int i = 0; i < count; i++) v[i] = (float) v[i];
    }

    @Override
    public void maxPoolAdd(PoolSpec spec, Buffer x, Buffer residual, Buffer y) {
        double[] xd = data(x, "maxPoolAdd x", spec.inputElements(), "(n,h,w,c) = " + poolIn(spec));
        double[] rd = residual == null ? null : data(residual, "maxPoolAdd residual", spec.outputElements(), "(n,outH,outW,c) = " + poolOut(spec));
        double[] yd = data(y, "maxPoolAdd y", spec.outputElements(), "(n,outH,outW,c) = " + poolOut(spec));
        PoolOps.maxPool3x3s2Same(xd, spec.n(), spec.h(), spec.w(), spec.c(), rd, yd);
    }

    @Override
    public void head(HeadSpec spec, Buffer x, Buffer kernel, Buffer bias, Buffer y) {
        checkHead("head", spec);
        int n = spec.n(), c = spec.channels(), pixels = spec.h() * spec.w();
        double[] xd = data(x, "head x", (long) n * pixels * c, "(n,h,w,C) = (" + n + "," + spec.h() + "," + spec.w() + "," + c + ")");
        double[] yd = data(y, "head y", spec.outputElements(), "(n," + (spec.dense() ? "classes" : "C") + ")");
        if (!spec.dense()) {
            if (spec.pooling() == Pooling.MAX) PoolOps.globalMaxPool(xd, n, pixels, c, yd);
            else PoolOps.globalAvgPool(xd, n, pixels, c, yd);
            return;
        }
        int classes = spec.classes();
        double[] kd = data(kernel, "head kernel", (long) c * classes, "(C,classes) = (" + c + "," + classes + ")");
        double[] bd = bias == null ? null : data(bias, "head bias", classes, "(classes)");
        double[] pooled = new double[n * c];    // (n, C)
        double[] logits = new double[n * classes]; // (n, classes)
        PoolOps.globalAvgPool(xd, n, pixels, c, pooled);
        HeadOps.dense(pooled, n, c, kd, bd, classes, logits);
        HeadOps.softmax(logits, n, classes, yd);
    }

    // ---------------------------------------------------------------- training

    @Override
    public void headTrain(HeadSpec spec, Buffer x, Buffer kernel, Buffer bias, Buffer labels, Buffer probs, Buffer loss,
                          Buffer dX, Buffer dKernel, Buffer dBias, float lossScale) {
        checkHead("headTrain", spec);
        if (!(lossScale > 0) || Float.isInfinite(lossScale)) throw new IllegalArgumentException("headTrain: loss scale must be positive and finite, got " + lossScale);
        if (!spec.dense()) throw new IllegalArgumentException("headTrain needs the dense top (HeadSpec.dense = true): training without the top has no loss");
        int n = spec.n(), c = spec.channels(), pixels = spec.h() * spec.w(), classes = spec.classes();
        String xShape = "(n,h,w,C) = (" + n + "," + spec.h() + "," + spec.w() + "," + c + ")";
        double[] xd = data(x, "headTrain x", (long) n * pixels * c, xShape);
        double[] kd = data(kernel, "headTrain kernel", (long) c * classes, "(C,classes)");
        double[] bd = bias == null ? null : data(bias, "headTrain bias", classes, "(classes)");
        double[] ld = data(labels, "headTrain labels", n, "(n)");
        double[] pd = data(probs, "headTrain probs", (long) n * classes, "(n,classes)");
        double[] lossd = data(loss, "headTrain loss", n, "(n)");
        double[] dxd = data(dX, "headTrain dX", (long) n * pixels * c, xShape);
        double[] dkd = data(dKernel, "headTrain dKernel", (long) c * classes, "(C,classes)");
        if (bias == null && dBias != null) throw new IllegalArgumentException("headTrain: dBias given but bias is null");
        double[] dbd = dBias == null ? null : data(dBias, "headTrain dBias", classes, "(classes)");
        int[] label = new int[n];
        for (int b = 0; b < n; b++) {
            double v = ld[b];
            if (v != Math.rint(v) || v < 0 || v >= classes) {
                throw new IllegalArgumentException("headTrain: label of example " + b + " is " + v + ", expected a class index in [0, " + classes + ")");
            }
            label[b] = (int) v;
        }
        double[] pooled = new double[n * c];        // (n, C)
        double[] logits = new double[n * classes];  // (n, classes)
        double[] dLogits = new double[n * classes]; // (n, classes), of the mean loss
        double[] dPooled = new double[n * c];       // (n, C)
        PoolOps.globalAvgPool(xd, n, pixels, c, pooled);
        HeadOps.dense(pooled, n, c, kd, bd, classes, logits);
        HeadOps.softmaxCrossEntropy(logits, label, n, classes, pd, lossd, dLogits);
        if (lossScale != 1f) for (int i = 0; i < dLogits.length; i++) dLogits[i] *= lossScale;
        HeadOps.denseBackward(pooled, n, c, kd, classes, dLogits, dPooled, dkd, dbd);
        PoolOps.globalAvgPoolBackward(dPooled, n, pixels, c, dxd);
    }

    @Override
    public void batchNormTrainBackward(BatchNormSpec spec, Buffer z, Buffer y, Buffer dy, Buffer gamma, Buffer mean,
                                       Buffer invStd, Buffer dz, Buffer dyMasked, Buffer dGamma, Buffer dBeta) {
        int rows = bnRows(spec), c = spec.channels();
        String shape = "(rows,c) = (" + rows + "," + c + ")";
        double[] zd = data(z, "batchNormTrainBackward z", spec.elements(), shape);
        double[] yd = data(y, "batchNormTrainBackward y", spec.elements(), shape);
        double[] dyd = data(dy, "batchNormTrainBackward dy", spec.elements(), shape);
        double[] dzd = data(dz, "batchNormTrainBackward dz", spec.elements(), shape);
        double[] dmd = dyMasked == null ? null : data(dyMasked, "batchNormTrainBackward dyMasked", spec.elements(), shape);
        double[] g = data(gamma, "batchNormTrainBackward gamma", c, "(c)");
        double[] m = data(mean, "batchNormTrainBackward mean", c, "(c)");
        double[] is = data(invStd, "batchNormTrainBackward invStd", c, "(c)");
        double[] dg = data(dGamma, "batchNormTrainBackward dGamma", c, "(c)");
        double[] db = data(dBeta, "batchNormTrainBackward dBeta", c, "(c)");
        BatchNormOps.trainBackward(zd, yd, dyd, rows, c, g, m, is, spec.relu(), dzd, dmd, dg, db);
    }

    @Override
    public void convBackward(ConvSpec spec, Buffer x, Buffer w1, Buffer w2, Buffer dz, Buffer dx, Buffer dw1, Buffer dw2) {
        ConvInputs in = convInputs("convBackward", spec, x, w1, w2);
        int n = spec.n(), h = spec.h(), w = spec.w(), cin = spec.cin(), cout = spec.cout(), s = spec.stride();
        double[] dzd = data(dz, "convBackward dz", spec.outputElements(), "(n,outH,outW,cout) = " + outShape(spec));
        double[] dxd = dx == null ? null : data(dx, "convBackward dx", spec.inputElements(), "(n,h,w,cin) = " + inShape(spec));
        double[] dw1d = data(dw1, "convBackward dw1", spec.w1Elements(), w1Shape(spec));
        double[] xin = in.preReluX(); // (n,h,w,cin): the conv's actual input
        switch (spec.kind()) {
            case CONV3X3_VALID -> {
                ConvOps.conv3x3ValidBackwardKernel(par, xin, n, h, w, cin, dzd, cout, s, dw1d);
                if (dxd != null) ConvOps.conv3x3ValidBackwardInput(par, dzd, n, h, w, cin, in.w1(), cout, s, dxd);
            }
            case CONV1X1_SAME -> {
                ConvOps.conv1x1SameBackwardKernel(par, xin, n, h, w, cin, dzd, cout, s, dw1d);
                if (dxd != null) ConvOps.conv1x1SameBackwardInput(par, dzd, n, h, w, cin, in.w1(), cout, s, dxd);
            }
            case SEPARABLE3X3_SAME -> {
                double[] dw2d = data(dw2, "convBackward dw2", spec.w2Elements(), "(cin,cout) = (" + cin + "," + cout + ")");
                int pixels = n * h * w;
                double[] depthwiseOut = new double[pixels * cin];  // (n,h,w,cin), recomputed
                double[] dDepthwiseOut = new double[pixels * cin]; // (n,h,w,cin)
                ConvOps.depthwise3x3Same(par, xin, n, h, w, cin, in.w1(), depthwiseOut);
                ConvOps.pointwiseBackwardKernel(par, depthwiseOut, pixels, cin, dzd, cout, dw2d);
                ConvOps.pointwiseBackwardInput(par, dzd, pixels, cin, in.w2(), cout, dDepthwiseOut);
                ConvOps.depthwise3x3SameBackwardKernel(par, xin, n, h, w, cin, dDepthwiseOut, dw1d);
                if (dxd != null) ConvOps.depthwise3x3SameBackwardInput(par, dDepthwiseOut, n, h, w, cin, in.w1(), dxd);
            }
        }
        if (dxd != null && spec.preRelu()) ElementwiseOps.reluBackward(in.x(), dxd, Math.toIntExact(spec.inputElements()), dxd);
    }

    @Override
    public void maxPoolBackward(PoolSpec spec, Buffer x, Buffer dy, Buffer dx) {
        double[] xd = data(x, "maxPoolBackward x", spec.inputElements(), "(n,h,w,c) = " + poolIn(spec));
        double[] dyd = data(dy, "maxPoolBackward dy", spec.outputElements(), "(n,outH,outW,c) = " + poolOut(spec));
        double[] dxd = data(dx, "maxPoolBackward dx", spec.inputElements(), "(n,h,w,c) = " + poolIn(spec));
        PoolOps.maxPool3x3s2SameBackward(xd, spec.n(), spec.h(), spec.w(), spec.c(), dyd, dxd);
    }

    @Override
    public void addInPlace(Buffer dst, Buffer src, long count) {
        if (count < 0) throw new IllegalArgumentException("addInPlace: negative count " + count);
        double[] d = data(dst, "addInPlace dst", count, "(count)");
        double[] s = data(src, "addInPlace src", count, "(count)");
        ElementwiseOps.add(d, s, (int) count, d);
    }

    @Override
    public void sgdUpdate(Buffer param, Buffer grad, Buffer velocity, long count, float lr, float momentum, float weightDecay) {
        if (count < 0) throw new IllegalArgumentException("sgdUpdate: negative count " + count);
        double[] p = data(param, "sgdUpdate param", count, "(count)");
        double[] g = data(grad, "sgdUpdate grad", count, "(count)");
        double[] v = data(velocity, "sgdUpdate velocity", count, "(count)");
        ElementwiseOps.sgdMomentum(p, g, v, (int) count, lr, momentum, weightDecay);
        roundToFloat(p, (int) count);
        roundToFloat(v, (int) count);
    }

    @Override
    public void unscaleGradient(Buffer grad, long count, float factor, Buffer overflow) {
        if (count < 0) throw new IllegalArgumentException("unscaleGradient: negative count " + count);
        double[] g = data(grad, "unscaleGradient grad", count, "(count)");
        double[] flag = data(overflow, "unscaleGradient overflow", 1, "(1)");
        if (ElementwiseOps.scaleAndCheckFinite(g, (int) count, factor)) flag[0] = 1;
    }

    // ---------------------------------------------------------------- batch norm split for statistics over several processes

    @Override
    public void batchNormSums(BatchNormSpec spec, Buffer z, double[] mean, double[] sums) {
        int rows = bnRows(spec), c = spec.channels();
        double[] zd = data(z, "batchNormSums z", spec.elements(), "(rows,c) = (" + rows + "," + c + ")");
        hostChannels("batchNormSums", "sums", sums, c);
        if (mean != null) hostChannels("batchNormSums", "mean", mean, c);
        BatchNormOps.channelSums(zd, rows, c, mean, sums);
    }

    @Override
    public void batchNormApply(BatchNormSpec spec, Buffer z, double[] mean, double[] variance, Buffer gamma, Buffer beta, Buffer residual,
                               Buffer y, Buffer meanOut, Buffer invStdOut, Buffer movingMean, Buffer movingVar) {
        int rows = bnRows(spec), c = spec.channels();
        String shape = "(rows,c) = (" + rows + "," + c + ")";
        double[] zd = data(z, "batchNormApply z", spec.elements(), shape);
        double[] yd = data(y, "batchNormApply y", spec.elements(), shape);
        double[] res = bnResidual("batchNormApply", spec, residual, shape);
        hostChannels("batchNormApply", "mean", mean, c);
        hostChannels("batchNormApply", "variance", variance, c);
        double[] g = data(gamma, "batchNormApply gamma", c, "(c)");
        double[] b = data(beta, "batchNormApply beta", c, "(c)");
        double[] m = data(meanOut, "batchNormApply meanOut", c, "(c)");
        double[] is = data(invStdOut, "batchNormApply invStdOut", c, "(c)");
        double[] mm = data(movingMean, "batchNormApply movingMean", c, "(c)");
        double[] mv = data(movingVar, "batchNormApply movingVar", c, "(c)");
        System.arraycopy(mean, 0, m, 0, c);
        BatchNormOps.invStd(variance, c, spec.epsilon(), is);
        BatchNormOps.trainForward(zd, rows, c, m, is, g, b, res, spec.relu(), yd);
        BatchNormOps.updateMoving(mm, m, c, spec.momentum());
        BatchNormOps.updateMoving(mv, variance, c, spec.momentum());
        roundToFloat(mm, c); // stored state at fp32 values, as batchNormTrain keeps it
        roundToFloat(mv, c);
    }

    @Override
    public void batchNormBackwardSums(BatchNormSpec spec, Buffer z, Buffer y, Buffer dy, Buffer mean, Buffer invStd, double[] dGamma, double[] dBeta) {
        int rows = bnRows(spec), c = spec.channels();
        String shape = "(rows,c) = (" + rows + "," + c + ")";
        double[] zd = data(z, "batchNormBackwardSums z", spec.elements(), shape);
        double[] yd = data(y, "batchNormBackwardSums y", spec.elements(), shape);
        double[] dyd = data(dy, "batchNormBackwardSums dy", spec.elements(), shape);
        double[] m = data(mean, "batchNormBackwardSums mean", c, "(c)");
        double[] is = data(invStd, "batchNormBackwardSums invStd", c, "(c)");
        hostChannels("batchNormBackwardSums", "dGamma", dGamma, c);
        hostChannels("batchNormBackwardSums", "dBeta", dBeta, c);
        BatchNormOps.backwardSums(zd, yd, dyd, rows, c, m, is, spec.relu(), dGamma, dBeta);
    }

    @Override
    public void batchNormBackwardApply(BatchNormSpec spec, long statisticsRows, Buffer z, Buffer y, Buffer dy, Buffer gamma, Buffer mean,
                                       Buffer invStd, double[] dGammaSum, double[] dBetaSum, Buffer dz, Buffer dyMasked, Buffer dGamma, Buffer dBeta) {
        int rows = bnRows(spec), c = spec.channels();
        if (statisticsRows < rows) {
            throw new IllegalArgumentException("batchNormBackwardApply: the statistics cover " + statisticsRows + " rows, fewer than this process's " + rows);
        }
        String shape = "(rows,c) = (" + rows + "," + c + ")";
        double[] zd = data(z, "batchNormBackwardApply z", spec.elements(), shape);
        double[] yd = data(y, "batchNormBackwardApply y", spec.elements(), shape);
        double[] dyd = data(dy, "batchNormBackwardApply dy", spec.elements(), shape);
        double[] dzd = data(dz, "batchNormBackwardApply dz", spec.elements(), shape);
        double[] dmd = dyMasked == null ? null : data(dyMasked, "batchNormBackwardApply dyMasked", spec.elements(), shape);
        double[] g = data(gamma, "batchNormBackwardApply gamma", c, "(c)");
        double[] m = data(mean, "batchNormBackwardApply mean", c, "(c)");
        double[] is = data(invStd, "batchNormBackwardApply invStd", c, "(c)");
        double[] dg = data(dGamma, "batchNormBackwardApply dGamma", c, "(c)");
        double[] db = data(dBeta, "batchNormBackwardApply dBeta", c, "(c)");
        hostChannels("batchNormBackwardApply", "dGammaSum", dGammaSum, c);
        hostChannels("batchNormBackwardApply", "dBetaSum", dBetaSum, c);
        BatchNormOps.backwardApply(zd, yd, dyd, rows, c, statisticsRows, g, m, is, spec.relu(), dGammaSum, dBetaSum, dzd, dmd);
        System.arraycopy(dGammaSum, 0, dg, 0, c);
        System.arraycopy(dBetaSum, 0, db, 0, c);
    }

    /** A host array of per-channel values must hold at least c of them. */
    private static void hostChannels(String op, String what, double[] values, int c) {
        if (values == null) throw new IllegalArgumentException(op + ": " + what + " is null");
        if (values.length < c) throw new IllegalArgumentException(op + ": " + what + " holds " + values.length + " values, the spec has " + c + " channels");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        par.close();
        CpuBuffer[] all;
        synchronized (live) {
            all = live.toArray(new CpuBuffer[0]);
        }
        for (CpuBuffer b : all) b.close();
    }

    // ---------------------------------------------------------------- argument checks

    /** The conv's input (x, and relu(x) when preRelu) and weights, checked against the spec. */
    private record ConvInputs(double[] x, double[] preReluX, double[] w1, double[] w2) {}

    private ConvInputs convInputs(String op, ConvSpec spec, Buffer x, Buffer w1, Buffer w2) {
        double[] xd = data(x, op + " x", spec.inputElements(), "(n,h,w,cin) = " + inShape(spec));
        double[] w1d = data(w1, op + " w1", spec.w1Elements(), w1Shape(spec));
        double[] w2d = null;
        if (spec.kind() == io.jxception.model.ConvKind.SEPARABLE3X3_SAME) {
            w2d = data(w2, op + " w2 (pointwise)", spec.w2Elements(), "(cin,cout) = (" + spec.cin() + "," + spec.cout() + ")");
        } else if (w2 != null) {
            throw new IllegalArgumentException(op + ": w2 must be null for a " + spec.kind() + " conv (only separable convs have a second weight)");
        }
        double[] xin = xd;
        if (spec.preRelu()) {
            xin = new double[Math.toIntExact(spec.inputElements())];
            ElementwiseOps.relu(xd, xin.length, xin);
        }
        return new ConvInputs(xd, xin, w1d, w2d);
    }

    private static String inShape(ConvSpec s) { return "(" + s.n() + "," + s.h() + "," + s.w() + "," + s.cin() + ")"; }

    private static String outShape(ConvSpec s) { return "(" + s.n() + "," + s.outH() + "," + s.outW() + "," + s.cout() + ")"; }

    private static String w1Shape(ConvSpec s) {
        return switch (s.kind()) {
            case CONV3X3_VALID -> "(3,3,cin,cout) = (3,3," + s.cin() + "," + s.cout() + ")";
            case SEPARABLE3X3_SAME -> "depthwise (3,3,cin) = (3,3," + s.cin() + ")";
            case CONV1X1_SAME -> "(cin,cout) = (" + s.cin() + "," + s.cout() + ")";
        };
    }

    private static String poolIn(PoolSpec s) { return "(" + s.n() + "," + s.h() + "," + s.w() + "," + s.c() + ")"; }

    private static String poolOut(PoolSpec s) { return "(" + s.n() + "," + s.outH() + "," + s.outW() + "," + s.c() + ")"; }

    private static int bnRows(BatchNormSpec spec) {
        if (spec.rows() < 1 || spec.channels() < 1) throw new IllegalArgumentException("batch norm needs rows and channels >= 1, got " + spec);
        if (!(spec.epsilon() > 0)) throw new IllegalArgumentException("batch norm epsilon must be positive, got " + spec.epsilon());
        if (spec.elements() > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("batch norm over " + spec.elements() + " values is too large for the CPU reference");
        return (int) spec.rows();
    }

    private double[] bnResidual(String op, BatchNormSpec spec, Buffer residual, String shape) {
        if (spec.residual() && residual == null) throw new IllegalArgumentException(op + ": spec.residual() is true but the residual buffer is null");
        if (!spec.residual() && residual != null) throw new IllegalArgumentException(op + ": a residual buffer was given but spec.residual() is false");
        return residual == null ? null : data(residual, op + " residual", spec.elements(), shape);
    }

    private static void checkHead(String op, HeadSpec spec) {
        if (spec.n() < 1 || spec.h() < 1 || spec.w() < 1 || spec.channels() < 1) throw new IllegalArgumentException(op + ": bad geometry " + spec);
        if (spec.dense()) {
            if (spec.classes() < 1) throw new IllegalArgumentException(op + ": the dense top needs classes >= 1, got " + spec.classes());
            if (spec.pooling() == Pooling.MAX) throw new IllegalArgumentException(op + ": the dense top pools by average (Keras include_top); got pooling MAX");
        } else if (spec.pooling() == Pooling.NONE) {
            throw new IllegalArgumentException(op + ": a head without the dense top needs AVG or MAX pooling, got NONE");
        }
    }

    private static void checkRange(String op, int hostLength, int hostOffset, int bufferLength, long bufferOffset, int count) {
        if (count < 0 || hostOffset < 0 || bufferOffset < 0 || (long) hostOffset + count > hostLength || bufferOffset + count > bufferLength) {
            throw new IndexOutOfBoundsException(op + " of " + count + " values: host array [" + hostOffset + ", +" + count + ") of " + hostLength
                    + ", buffer [" + bufferOffset + ", +" + count + ") of " + bufferLength);
        }
    }

    private double[] data(Buffer b, String what, long needed, String shape) {
        double[] d = data(b, what);
        if (d.length < needed) {
            throw new IllegalArgumentException(what + " holds " + d.length + " values but the spec's " + shape + " needs " + needed);
        }
        return d;
    }

    private double[] data(Buffer b, String what) {
        checkOpen();
        if (b == null) throw new IllegalArgumentException(what + " is null");
        if (!(b instanceof CpuBuffer cb) || cb.owner != this) {
            throw new IllegalArgumentException(what + " (" + b + ") was not allocated by this CPU backend: allocate it with this backend's allocate()");
        }
        return cb.data();
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("CPU backend is closed");
    }

    void released(CpuBuffer b) { live.remove(b); }
}
