package io.jxception.internal.backend.opencl;

import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.backend.BatchNormSpec;
import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.Epilogue;
import io.jxception.internal.backend.HeadSpec;
import io.jxception.internal.backend.PoolSpec;
import io.jxception.backend.Precision;
import io.jxception.image.KerasPreprocessing;
import io.jxception.model.ConvKind;
import io.jxception.model.Padding;
import io.jxception.model.Pooling;

import static io.jxception.internal.backend.opencl.Tiles.RM;
import static io.jxception.internal.backend.opencl.Tiles.ceilDiv;
import static io.jxception.internal.backend.opencl.Tiles.vectorWidth;

/**
 * Xception's fused ops on one OpenCL device (fp32). Kernels live in {@code opencl/*.cl}, one file per
 * fused op, built at first use with the launch's sizes as -D options. All work goes to one in-order
 * queue, so calls return before the device finishes; {@link #download} and {@link #synchronize} wait.
 *
 * <p>The backward ops need intermediates the forward never stores (the depthwise output, its
 * gradient, transposed weights, per-slice partial sums): they live in scratch buffers that grow to
 * the largest layer seen and are freed on {@link #close()}.
 *
 * <p>Thread-safe: sessions on different threads may share one backend (a session per worker
 * thread). Every entry point holds the backend's lock: kernel objects are shared and their arguments
 * are set before each enqueue (clSetKernelArg is not thread-safe on one cl_kernel; pocl crashed with
 * SIGSEGV when four threads interleaved it), and so are the kernel cache and the scratch buffers.
 * The queue is in order, so one session's launches still run in its order; the lock costs a few
 * tens of nanoseconds per launch uncontended (see the README's reliability section).
 */
public final class OpenClBackend implements KernelBackend {
    private final ClContext ctx;
    private final String name;
    private final ClBuffer[] scratch = new ClBuffer[Scratch.values().length]; // by Scratch role, shapes there
    private ClBuffer pixelValues;  // (256) v/127.5f - 1f for v = 0..255, made by the first convUint8
    private boolean closed;

    /** Scratch buffers of the head and the backward ops, by role, with the shapes they hold. */
    private enum Scratch {
        DEPTHWISE_OUT,  // (N, H, W, CIN)   d = DW(act(x)) of a separable conv, recomputed for its backward
        GRAD_DEPTHWISE, // (N, H, W, CIN)   dd = dz pw^T
        WEIGHTS_T,      // (COUT, CIN) or (3, 3, COUT, CIN): weights with the last two axes swapped
        PARTIAL,        // (S, ...)         per-slice partial sums: (S, C) batch norm, (S, M, COUT) weight gradients, (S, 9, CIN) depthwise
        PARTIAL2,       // (S, C)           second batch-norm backward partial (dgamma)
        POOLED,         // (N, C)           global average pool of the head
        DLOGITS,        // (N, CLASSES)     gradient of the mean loss w.r.t. the logits
        GRAD_ROWS,      // (N, OH, OW, CIN) dz w^T of a strided 1x1 conv, before the scatter
        CHANNEL_SUMS,   // (C)              per-channel sums of the split batch norm, on their way to the host
        CHANNEL_STATS   // (C)              per-channel values from the host: the mean, the variance of every process
    }

    OpenClBackend(ClDevice device) {
        this.ctx = new ClContext(device, this);
        this.name = "opencl:" + device.index();
    }

    @Override public String name() { return name; }

    @Override public String description() {
        return ctx.device.name() + " (" + ctx.device.details() + "), fp32, library " + OpenClLibrary.loadedFrom();
    }

    @Override public Precision precision() { return Precision.FP32; }

    /** The device plumbing, for the kernel-variant harness in opencl/dev. */
    synchronized ClContext context() { return ctx; }

    /**
     * This backend's per-kernel launch times, when it was opened with the system property
     * {@code jxception.opencl.profile=true} (every launch then waits for the device); else null.
     */
    public LaunchProfile launchProfile() { return ctx.profile; }

    /** Bytes of device memory this backend holds now, scratch included. */
    public synchronized long allocatedBytes() { return ctx.allocatedBytes(); }

    @Override
    public synchronized Buffer allocate(long elements) {
        checkOpen();
        return ctx.allocate(elements);
    }

    synchronized void free(ClBuffer b) {
        if (closed) return; // close() released it already
        ctx.free(b);
    }

    @Override
    public synchronized void upload(float[] src, int srcOffset, Buffer dst, long dstOffset, int count) {
        checkOpen();
        ctx.upload(src, srcOffset, buf(dst, "upload destination", 0), dstOffset, count);
    }

    /** Raw bytes into the buffer's first bytes from byte {@code dstOffset} (one byte per pixel; the buffer's size counts floats). */
    @Override
    public void uploadUint8(byte[] src, int srcOffset, Buffer dst, long dstOffset, int count) {
        checkOpen();
        ctx.uploadBytes(src, srcOffset, buf(dst, "uploadUint8 destination", 0), dstOffset, count);
    }

    @Override
    public synchronized void download(Buffer src, long srcOffset, float[] dst, int dstOffset, int count) {
        checkOpen();
        ctx.download(buf(src, "download source", 0), srcOffset, dst, dstOffset, count);
    }

    @Override
    public synchronized void synchronize() {
        checkOpen();
        ctx.finish();
    }

    // ------------------------------------------------------------------------------------- forward

    @Override
    public synchronized void conv(ConvSpec spec, Buffer x, Buffer w1, Buffer w2, Epilogue epilogue, Buffer y) { conv(spec, x, w1, w2, epilogue, y, false); }

    /** conv_bn_relu compiled with X_UINT8: the pixels are read through the {@link #pixelValues} table inside the kernel. */
    @Override
    public synchronized void convUint8(ConvSpec spec, Buffer pixels, Buffer w1, Epilogue epilogue, Buffer y) {
        KernelBackend.checkUint8Spec(spec);
        conv(spec, pixels, w1, null, epilogue, y, true);
    }

    private void conv(ConvSpec spec, Buffer x, Buffer w1, Buffer w2, Epilogue epilogue, Buffer y, boolean uint8) {
        checkOpen();
        if (epilogue == null) throw new IllegalArgumentException("conv: epilogue is null; pass Epilogue.NONE for a raw convolution");
        ClBuffer xb = buf(x, "conv x " + shape(spec.n(), spec.h(), spec.w(), spec.cin()), spec.inputElements());
        ClBuffer yb = buf(y, "conv y " + shape(spec.n(), spec.outH(), spec.outW(), spec.cout()), spec.outputElements());
        ClBuffer w1b = buf(w1, "conv w1", spec.w1Elements());
        ClBuffer scale = epilogue.scale() == null ? null : buf(epilogue.scale(), "epilogue scale (cout)", spec.cout());
        ClBuffer shift = epilogue.shift() == null ? null : buf(epilogue.shift(), "epilogue shift (cout)", spec.cout());
        ClBuffer residual = epilogue.residual() == null ? null : buf(epilogue.residual(), "epilogue residual", spec.outputElements());
        int pixels = Math.toIntExact((long) spec.n() * spec.outH() * spec.outW());
        int cout = spec.cout();
        int vw = vectorWidth(cout);
        int columnVectors = ceilDiv(cout, vw);
        BuildOptions o = new BuildOptions().def("H", spec.h()).def("W", spec.w()).def("CIN", spec.cin()).def("COUT", cout)
                .def("RM", RM).def("VW", vw).def("PRE_RELU", spec.preRelu()).def("HAS_BN", scale != null)
                .def("HAS_RES", residual != null).def("POST_RELU", epilogue.relu());
        if (spec.kind() == ConvKind.SEPARABLE3X3_SAME) {
            ClBuffer pw = buf(w2, "sepconv pointwise w2 (cin,cout)", spec.w2Elements());
            Tiles.Sepconv t = Tiles.sepconv(pixels, spec.cin(), cout, ctx.device);
            o.def("TM", t.tm()).def("KC", t.kc()).def("VWI", t.vwi());
            long k = ctx.kernel("sepconv_bn.cl", "sepconv_bn", o.toString());
            // column vectors per group are a launch choice, not compiled in: fit them to this kernel's limit
            int tnv = Tiles.columnVectorsPerGroup(t.tnv(), t.rowGroups(), ctx.maxWorkGroupSize(k));
            ctx.launch(k, "sepconv_bn").arg(xb).arg(w1b).arg(pw).argOrNull(scale).argOrNull(shift).argOrNull(residual).arg(yb).arg(pixels)
                    .run(new long[]{(long) ceilDiv(pixels, t.tm()) * t.rowGroups(), (long) ceilDiv(columnVectors, tnv) * tnv},
                            new long[]{t.rowGroups(), tnv});
            return;
        }
        if (w2 != null) throw new IllegalArgumentException("w2 must be null for a " + spec.kind() + " conv");
        o.def("STRIDE", spec.stride()).def("OH", spec.outH()).def("OW", spec.outW());
        if (spec.kind() == ConvKind.CONV3X3_VALID) {
            if (uint8) o.def("X_UINT8", true);
            long k = ctx.kernel("conv_bn_relu.cl", "conv_bn_relu", o.toString());
            launchRowTiled(k, ctx.launch(k, "conv_bn_relu").arg(xb).arg(w1b).argOrNull(scale).argOrNull(shift).argOrNull(residual).arg(yb).arg(pixels)
                    .argOrNull(uint8 ? pixelValues() : null), columnVectors, pixels);
            return;
        }
        long k = ctx.kernel("conv1x1s2_bn.cl", "conv1x1s2_bn", o.toString());
        launchRowTiled(k, ctx.launch(k, "conv1x1s2_bn").arg(xb).arg(w1b).argOrNull(scale).argOrNull(shift).argOrNull(residual).arg(yb).arg(pixels),
                columnVectors, pixels);
    }

    /** (256) fp32: Keras' preprocessing of each byte value, {@link KerasPreprocessing#tf}, uploaded on first use. */
    private ClBuffer pixelValues() {
        if (pixelValues == null) {
            float[] table = new float[256];
            for (int v = 0; v < 256; v++) table[v] = KerasPreprocessing.tf(v);
            ClBuffer b = ctx.allocate(256);
            ctx.upload(table, 0, b, 0, 256);
            pixelValues = b;
        }
        return pixelValues;
    }

    /**
     * Launches a kernel whose work-items own RM rows x one column vector: row tiles along dimension 0
     * (pocl runs a group's work-items dim 0 fastest, so up to 8 row tiles reuse each column of
     * weights from cache), all column vectors of the output in the group where the device allows.
     */
    private void launchRowTiled(long kernel, ClLaunch launch, int columnVectors, int rows) {
        int rowTiles = ceilDiv(rows, RM);
        int tmr = Tiles.rowTilesPerGroup(rowTiles);
        int tnv = Tiles.columnVectorsPerGroup(columnVectors, tmr, Math.min(1024, ctx.maxWorkGroupSize(kernel)));
        launch.run(new long[]{(long) ceilDiv(rowTiles, tmr) * tmr, (long) ceilDiv(columnVectors, tnv) * tnv}, new long[]{tmr, tnv});
    }

    @Override
    public synchronized void maxPoolAdd(PoolSpec spec, Buffer x, Buffer residual, Buffer y) {
        checkOpen();
        ClBuffer xb = buf(x, "maxPoolAdd x " + shape(spec.n(), spec.h(), spec.w(), spec.c()), spec.inputElements());
        ClBuffer rb = residual == null ? null : buf(residual, "maxPoolAdd residual", spec.outputElements());
        ClBuffer yb = buf(y, "maxPoolAdd y " + shape(spec.n(), spec.outH(), spec.outW(), spec.c()), spec.outputElements());
        int vwi = vectorWidth(spec.c());
        long k = ctx.kernel("maxpool_add.cl", "maxpool_add", poolOptions(spec, vwi).def("HAS_RES", rb != null).toString());
        int pixels = Math.toIntExact((long) spec.n() * spec.outH() * spec.outW());
        ctx.launch(k, "maxpool_add").arg(xb).argOrNull(rb).arg(yb).arg(pixels).run(new long[]{ceilDiv(spec.c(), vwi), pixels}, null);
    }

    private static BuildOptions poolOptions(PoolSpec spec, int vwi) {
        return new BuildOptions().def("H", spec.h()).def("W", spec.w()).def("C", spec.c()).def("OH", spec.outH()).def("OW", spec.outW())
                .def("PT", Padding.sameBefore(spec.h(), 3, 2)).def("PL", Padding.sameBefore(spec.w(), 3, 2)).def("VWI", vwi);
    }

    @Override
    public synchronized void head(HeadSpec spec, Buffer x, Buffer kernel, Buffer bias, Buffer y) {
        checkOpen();
        ClBuffer xb = buf(x, "head x " + shape(spec.n(), spec.h(), spec.w(), spec.channels()), (long) spec.n() * spec.h() * spec.w() * spec.channels());
        ClBuffer yb = buf(y, "head y", spec.outputElements());
        if (!spec.dense()) {
            if (spec.pooling() == Pooling.NONE) throw new IllegalArgumentException("a head without dense needs AVG or MAX pooling");
            boolean max = spec.pooling() == Pooling.MAX;
            globalPool(spec, xb, max, yb, headOptions(spec, max, false, false));
            return;
        }
        ClBuffer kb = buf(kernel, "head kernel (C,classes)", (long) spec.channels() * spec.classes());
        ClBuffer bb = bias == null ? null : buf(bias, "head bias (classes)", spec.classes());
        ClBuffer pooled = scratch(Scratch.POOLED, (long) spec.n() * spec.channels());
        String o = headOptions(spec, false, bb != null, false);
        globalPool(spec, xb, false, pooled, o);
        denseSoftmax(spec, pooled, kb, bb, yb, null, null, o);
    }

    /** One gap_dense_softmax program per head shape: both its kernels see the same options. */
    private String headOptions(HeadSpec spec, boolean max, boolean bias, boolean loss) {
        int classes = Math.max(1, spec.classes()); // a pooling-only head still compiles dense_softmax
        return new BuildOptions().def("HW", (long) spec.h() * spec.w()).def("C", spec.channels()).def("VWI", vectorWidth(spec.channels()))
                .def("POOL_MAX", max).def("CLASSES", classes).def("VW", vectorWidth(classes)).def("HAS_BIAS", bias)
                .def("WG", headGroupSize()).def("LOSS", loss).toString();
    }

    private int headGroupSize() { return (int) Math.min(64, Long.highestOneBit(ctx.device.maxWorkGroupSize())); }

    private void globalPool(HeadSpec spec, ClBuffer x, boolean max, ClBuffer out, String options) {
        int vwi = vectorWidth(spec.channels());
        long k = ctx.kernel("gap_dense_softmax.cl", "global_pool", options);
        ctx.launch(k, "global_pool").arg(x).arg(out).arg(spec.n()).run(new long[]{ceilDiv(spec.channels(), vwi), spec.n()}, null);
    }

    private void denseSoftmax(HeadSpec spec, ClBuffer pooled, ClBuffer kernel, ClBuffer bias, ClBuffer probs, ClBuffer labels, ClBuffer loss,
                              String options) {
        int wg = headGroupSize();
        long k = ctx.kernel("gap_dense_softmax.cl", "dense_softmax", options);
        ctx.launch(k, "dense_softmax").arg(pooled).arg(kernel).argOrNull(bias).arg(probs).argOrNull(labels).argOrNull(loss)
                .run(new long[]{(long) spec.n() * wg}, new long[]{wg});
    }

    // ------------------------------------------------------------------------------------ training

    @Override
    public synchronized void batchNormTrain(BatchNormSpec spec, Buffer z, Buffer gamma, Buffer beta, Buffer residual, Buffer y,
                               Buffer mean, Buffer invStd, Buffer movingMean, Buffer movingVar) {
        checkOpen();
        int c = spec.channels();
        int rows = Math.toIntExact(spec.rows());
        ClBuffer zb = buf(z, "batchNormTrain z (rows,c)", spec.elements());
        ClBuffer gb = buf(gamma, "gamma (c)", c), bb = buf(beta, "beta (c)", c);
        ClBuffer rb = spec.residual() ? buf(residual, "batchNormTrain residual (rows,c)", spec.elements()) : null;
        ClBuffer yb = buf(y, "batchNormTrain y (rows,c)", spec.elements());
        ClBuffer mb = buf(mean, "mean (c)", c), ib = buf(invStd, "invStd (c)", c);
        ClBuffer mmb = buf(movingMean, "movingMean (c)", c), mvb = buf(movingVar, "movingVar (c)", c);
        int vwi = vectorWidth(c);
        int slices = ceilDiv(rows, Tiles.REDUCE_SLICE);
        String o = bnOptions(spec, vwi).toString();
        ClBuffer partial = scratch(Scratch.PARTIAL, (long) slices * c);
        long[] sliceGrid = {ceilDiv(c, vwi), slices};
        ctx.launch(kernel("batchnorm_train.cl", "bn_partial_sum", o), "bn_partial_sum").arg(zb).arg(partial).arg(rows).run(sliceGrid, null);
        ctx.launch(kernel("batchnorm_train.cl", "bn_mean", o), "bn_mean").arg(partial).arg(mb).arg(slices).arg(rows).run(new long[]{c}, null);
        ctx.launch(kernel("batchnorm_train.cl", "bn_partial_sqdev", o), "bn_partial_sqdev").arg(zb).arg(mb).arg(partial).arg(rows).run(sliceGrid, null);
        ctx.launch(kernel("batchnorm_train.cl", "bn_finalize", o), "bn_finalize").arg(partial).arg(mb).arg(ib).arg(mmb).arg(mvb)
                .arg(slices).arg(rows).run(new long[]{c}, null);
        ctx.launch(kernel("batchnorm_train.cl", "bn_apply", o), "bn_apply").arg(zb).arg(mb).arg(ib).arg(gb).arg(bb).argOrNull(rb).arg(yb)
                .arg(rows).run(new long[]{ceilDiv(c, vwi), rows}, null);
    }

    private static BuildOptions bnOptions(BatchNormSpec spec, int vwi) {
        return new BuildOptions().def("C", spec.channels()).def("VWI", vwi).def("SLICE", Tiles.REDUCE_SLICE)
                .def("EPS", spec.epsilon()).def("MOM", spec.momentum()).def("POST_RELU", spec.relu()).def("HAS_RES", spec.residual());
    }

    @Override
    public synchronized void batchNormTrainBackward(BatchNormSpec spec, Buffer z, Buffer y, Buffer dy, Buffer gamma, Buffer mean,
                                       Buffer invStd, Buffer dz, Buffer dyMasked, Buffer dGamma, Buffer dBeta) {
        checkOpen();
        int c = spec.channels();
        int rows = Math.toIntExact(spec.rows());
        ClBuffer zb = buf(z, "batchNormTrainBackward z (rows,c)", spec.elements());
        ClBuffer yb = buf(y, "batchNormTrainBackward y (rows,c)", spec.elements());
        ClBuffer dyb = buf(dy, "batchNormTrainBackward dy (rows,c)", spec.elements());
        ClBuffer gb = buf(gamma, "gamma (c)", c), mb = buf(mean, "mean (c)", c), ib = buf(invStd, "invStd (c)", c);
        ClBuffer dzb = buf(dz, "batchNormTrainBackward dz (rows,c)", spec.elements());
        ClBuffer dymb = dyMasked == null ? null : buf(dyMasked, "dyMasked (rows,c)", spec.elements());
        ClBuffer dgb = buf(dGamma, "dGamma (c)", c), dbb = buf(dBeta, "dBeta (c)", c);
        int vwi = vectorWidth(c);
        int slices = ceilDiv(rows, Tiles.REDUCE_SLICE);
        String o = bnOptions(spec, vwi).def("STORE_DYM", dymb != null).toString();
        ClBuffer pb = scratch(Scratch.PARTIAL, (long) slices * c), pg = scratch(Scratch.PARTIAL2, (long) slices * c);
        ctx.launch(kernel("batchnorm_train.cl", "bn_backward_partial", o), "bn_backward_partial").arg(zb).arg(yb).arg(dyb).arg(mb).arg(ib)
                .argOrNull(dymb).arg(pb).arg(pg).arg(rows).run(new long[]{ceilDiv(c, vwi), slices}, null);
        ctx.launch(kernel("batchnorm_train.cl", "bn_backward_reduce", o), "bn_backward_reduce").arg(pb).arg(pg).arg(dbb).arg(dgb).arg(slices)
                .run(new long[]{c}, null);
        ctx.launch(kernel("batchnorm_train.cl", "bn_backward_apply", o), "bn_backward_apply").arg(zb).arg(yb).arg(dyb).arg(gb).arg(mb).arg(ib)
                .arg(dbb).arg(dgb).arg(dzb).arg(rows).run(new long[]{ceilDiv(c, vwi), rows}, null);
    }

    // ------------------------------------------------------ batch norm split for statistics over several processes

    @Override
    public synchronized void batchNormSums(BatchNormSpec spec, Buffer z, double[] mean, double[] sums) {
        checkOpen();
        int c = spec.channels();
        int rows = Math.toIntExact(spec.rows());
        ClBuffer zb = buf(z, "batchNormSums z (rows,c)", spec.elements());
        hostChannels("batchNormSums", "sums", sums, c);
        int vwi = vectorWidth(c);
        int slices = ceilDiv(rows, Tiles.REDUCE_SLICE);
        String o = bnOptions(spec, vwi).toString();
        ClBuffer partial = scratch(Scratch.PARTIAL, (long) slices * c), out = scratch(Scratch.CHANNEL_SUMS, c);
        long[] sliceGrid = {ceilDiv(c, vwi), slices};
        if (mean == null) {
            ctx.launch(kernel("batchnorm_train.cl", "bn_partial_sum", o), "bn_partial_sum").arg(zb).arg(partial).arg(rows).run(sliceGrid, null);
        } else {
            ClBuffer m = scratch(Scratch.CHANNEL_STATS, c);
            ctx.upload(floats("batchNormSums", "mean", mean, c), 0, m, 0, c);
            ctx.launch(kernel("batchnorm_train.cl", "bn_partial_sqdev", o), "bn_partial_sqdev").arg(zb).arg(m).arg(partial).arg(rows).run(sliceGrid, null);
        }
        ctx.launch(kernel("batchnorm_train.cl", "bn_column_sums", o), "bn_column_sums").arg(partial).arg(out).arg(slices).run(new long[]{c}, null);
        downloadChannels(out, sums, c);
    }

    @Override
    public synchronized void batchNormApply(BatchNormSpec spec, Buffer z, double[] mean, double[] variance, Buffer gamma, Buffer beta, Buffer residual,
                               Buffer y, Buffer meanOut, Buffer invStdOut, Buffer movingMean, Buffer movingVar) {
        checkOpen();
        int c = spec.channels();
        int rows = Math.toIntExact(spec.rows());
        ClBuffer zb = buf(z, "batchNormApply z (rows,c)", spec.elements());
        ClBuffer gb = buf(gamma, "gamma (c)", c), bb = buf(beta, "beta (c)", c);
        ClBuffer rb = spec.residual() ? buf(residual, "batchNormApply residual (rows,c)", spec.elements()) : null;
        ClBuffer yb = buf(y, "batchNormApply y (rows,c)", spec.elements());
        ClBuffer mb = buf(meanOut, "meanOut (c)", c), ib = buf(invStdOut, "invStdOut (c)", c);
        ClBuffer mmb = buf(movingMean, "movingMean (c)", c), mvb = buf(movingVar, "movingVar (c)", c);
        float[] invStd = new float[c];
        hostChannels("batchNormApply", "variance", variance, c);
        for (int ch = 0; ch < c; ch++) invStd[ch] = (float) (1.0 / Math.sqrt(variance[ch] + spec.epsilon()));
        ctx.upload(floats("batchNormApply", "mean", mean, c), 0, mb, 0, c);
        ctx.upload(invStd, 0, ib, 0, c);
        ClBuffer vb = scratch(Scratch.CHANNEL_STATS, c);
        ctx.upload(floats("batchNormApply", "variance", variance, c), 0, vb, 0, c);
        int vwi = vectorWidth(c);
        String o = bnOptions(spec, vwi).toString();
        ctx.launch(kernel("batchnorm_train.cl", "bn_update_moving", o), "bn_update_moving").arg(mb).arg(vb).arg(mmb).arg(mvb).run(new long[]{c}, null);
        ctx.launch(kernel("batchnorm_train.cl", "bn_apply", o), "bn_apply").arg(zb).arg(mb).arg(ib).arg(gb).arg(bb).argOrNull(rb).arg(yb)
                .arg(rows).run(new long[]{ceilDiv(c, vwi), rows}, null);
    }

    @Override
    public synchronized void batchNormBackwardSums(BatchNormSpec spec, Buffer z, Buffer y, Buffer dy, Buffer mean, Buffer invStd, double[] dGamma, double[] dBeta) {
        checkOpen();
        int c = spec.channels();
        int rows = Math.toIntExact(spec.rows());
        ClBuffer zb = buf(z, "batchNormBackwardSums z (rows,c)", spec.elements());
        ClBuffer yb = buf(y, "batchNormBackwardSums y (rows,c)", spec.elements());
        ClBuffer dyb = buf(dy, "batchNormBackwardSums dy (rows,c)", spec.elements());
        ClBuffer mb = buf(mean, "mean (c)", c), ib = buf(invStd, "invStd (c)", c);
        hostChannels("batchNormBackwardSums", "dGamma", dGamma, c);
        hostChannels("batchNormBackwardSums", "dBeta", dBeta, c);
        int vwi = vectorWidth(c);
        int slices = ceilDiv(rows, Tiles.REDUCE_SLICE);
        String o = bnOptions(spec, vwi).toString(); // STORE_DYM undefined is 0: the forward's program, built once
        ClBuffer pb = scratch(Scratch.PARTIAL, (long) slices * c), pg = scratch(Scratch.PARTIAL2, (long) slices * c);
        ClBuffer sb = scratch(Scratch.CHANNEL_SUMS, c), sg = scratch(Scratch.CHANNEL_STATS, c);
        ctx.launch(kernel("batchnorm_train.cl", "bn_backward_partial", o), "bn_backward_partial").arg(zb).arg(yb).arg(dyb).arg(mb).arg(ib)
                .argOrNull(null).arg(pb).arg(pg).arg(rows).run(new long[]{ceilDiv(c, vwi), slices}, null);
        ctx.launch(kernel("batchnorm_train.cl", "bn_backward_reduce", o), "bn_backward_reduce").arg(pb).arg(pg).arg(sb).arg(sg).arg(slices)
                .run(new long[]{c}, null);
        downloadChannels(sb, dBeta, c);
        downloadChannels(sg, dGamma, c);
    }

    @Override
    public synchronized void batchNormBackwardApply(BatchNormSpec spec, long statisticsRows, Buffer z, Buffer y, Buffer dy, Buffer gamma, Buffer mean,
                                       Buffer invStd, double[] dGammaSum, double[] dBetaSum, Buffer dz, Buffer dyMasked, Buffer dGamma, Buffer dBeta) {
        checkOpen();
        int c = spec.channels();
        int rows = Math.toIntExact(spec.rows());
        if (statisticsRows < rows) {
            throw new IllegalArgumentException("batchNormBackwardApply: the statistics cover " + statisticsRows + " rows, fewer than this process's " + rows);
        }
        ClBuffer zb = buf(z, "batchNormBackwardApply z (rows,c)", spec.elements());
        ClBuffer yb = buf(y, "batchNormBackwardApply y (rows,c)", spec.elements());
        ClBuffer dyb = buf(dy, "batchNormBackwardApply dy (rows,c)", spec.elements());
        ClBuffer gb = buf(gamma, "gamma (c)", c), mb = buf(mean, "mean (c)", c), ib = buf(invStd, "invStd (c)", c);
        ClBuffer dzb = buf(dz, "batchNormBackwardApply dz (rows,c)", spec.elements());
        ClBuffer dymb = dyMasked == null ? null : buf(dyMasked, "dyMasked (rows,c)", spec.elements());
        ClBuffer dgb = buf(dGamma, "dGamma (c)", c), dbb = buf(dBeta, "dBeta (c)", c);
        ctx.upload(floats("batchNormBackwardApply", "dGammaSum", dGammaSum, c), 0, dgb, 0, c);
        ctx.upload(floats("batchNormBackwardApply", "dBetaSum", dBetaSum, c), 0, dbb, 0, c);
        int vwi = vectorWidth(c);
        BuildOptions options = bnOptions(spec, vwi);
        String o = (dymb == null ? options : options.def("STORE_DYM", true)).toString();
        ctx.launch(kernel("batchnorm_train.cl", "bn_backward_apply_rows", o), "bn_backward_apply_rows").arg(zb).arg(yb).arg(dyb).arg(gb).arg(mb)
                .arg(ib).arg(dbb).arg(dgb).arg(dzb).argOrNull(dymb).arg(rows).arg((float) (1.0 / statisticsRows))
                .run(new long[]{ceilDiv(c, vwi), rows}, null);
    }

    /** Host per-channel values as the floats a kernel reads. */
    private static float[] floats(String op, String what, double[] values, int c) {
        hostChannels(op, what, values, c);
        float[] f = new float[c];
        for (int ch = 0; ch < c; ch++) f[ch] = (float) values[ch];
        return f;
    }

    private void downloadChannels(ClBuffer src, double[] dst, int c) {
        float[] host = new float[c];
        ctx.download(src, 0, host, 0, c);
        for (int ch = 0; ch < c; ch++) dst[ch] = host[ch];
    }

    private static void hostChannels(String op, String what, double[] values, int c) {
        if (values == null) throw new IllegalArgumentException(op + ": " + what + " is null");
        if (values.length < c) throw new IllegalArgumentException(op + ": " + what + " holds " + values.length + " values, the spec has " + c + " channels");
    }

    /**
     * The gradients of the three convolutions, with act(x) = preRelu ? relu(x) : x:
     * <pre>
     * separable:  d = DW(act(x)) recomputed (depthwise_backward.cl);  dpw = d^T dz (weight_gradient.cl);
     *             dd = dz pw^T (transpose.cl, then conv1x1s2_bn.cl at stride 1);
     *             ddw[t,c] = sum_p act(x)[p+t,c] dd[p,c];  dx = mask * DW^T(dd)  (depthwise_backward.cl)
     * 1x1 s2:     dw = act(x)[strided]^T dz;  dx = scatter(dz w^T) * mask  (conv1x1_backward_data.cl)
     * 3x3 valid:  dw = im2col(act(x))^T dz;   dx = conv3x3_backward_data.cl (gather form, no atomics)
     * </pre>
     * Weight gradients sum over pixel slices into partials that reduce_slices.cl adds in a fixed order.
     */
    @Override
    public synchronized void convBackward(ConvSpec spec, Buffer x, Buffer w1, Buffer w2, Buffer dz, Buffer dx, Buffer dw1, Buffer dw2) {
        checkOpen();
        ClBuffer xb = buf(x, "convBackward x " + shape(spec.n(), spec.h(), spec.w(), spec.cin()), spec.inputElements());
        ClBuffer w1b = buf(w1, "convBackward w1", spec.w1Elements());
        ClBuffer dzb = buf(dz, "convBackward dz " + shape(spec.n(), spec.outH(), spec.outW(), spec.cout()), spec.outputElements());
        ClBuffer dxb = dx == null ? null : buf(dx, "convBackward dx", spec.inputElements());
        ClBuffer dw1b = buf(dw1, "convBackward dw1", spec.w1Elements());
        int outPixels = Math.toIntExact((long) spec.n() * spec.outH() * spec.outW());
        int inPixels = Math.toIntExact((long) spec.n() * spec.h() * spec.w());
        int cin = spec.cin(), cout = spec.cout();
        switch (spec.kind()) {
            case SEPARABLE3X3_SAME -> {
                ClBuffer pw = buf(w2, "convBackward pointwise w2 (cin,cout)", spec.w2Elements());
                ClBuffer dpw = buf(dw2, "convBackward dw2 (cin,cout)", spec.w2Elements());
                int vwi = vectorWidth(cin);
                int slice = Tiles.sliceLength(inPixels, 9L * cin);
                int slices = ceilDiv(inPixels, slice);
                String dwOpts = new BuildOptions().def("H", spec.h()).def("W", spec.w()).def("CIN", cin).def("VWI", vwi)
                        .def("PRE_RELU", spec.preRelu()).def("SLICE", slice).toString();
                long[] pixelGrid = {ceilDiv(cin, vwi), inPixels};
                // d = DW(act(x)), then dpw = d^T dz
                ClBuffer d = scratch(Scratch.DEPTHWISE_OUT, (long) inPixels * cin);
                ctx.launch(kernel("depthwise_backward.cl", "depthwise", dwOpts), "depthwise").arg(xb).arg(w1b).arg(d).arg(inPixels).run(pixelGrid, null);
                weightGradient(spec, 0, d, dzb, cin, inPixels, false, dpw);
                // dd = dz pw^T
                ClBuffer pwT = scratch(Scratch.WEIGHTS_T, (long) cin * cout);
                transpose(pw, pwT, 1, cin, cout);
                ClBuffer dd = scratch(Scratch.GRAD_DEPTHWISE, (long) inPixels * cin);
                rowsTimesMatrix(dzb, pwT, dd, inPixels, cout, cin);
                // ddw[t, c] = sum_p act(x)[p + t, c] dd[p, c]
                ClBuffer partial = scratch(Scratch.PARTIAL, (long) slices * 9 * cin);
                ctx.launch(kernel("depthwise_backward.cl", "depthwise_filter_partial", dwOpts), "depthwise_filter_partial").arg(xb).arg(dd)
                        .arg(partial).arg(inPixels).run(new long[]{ceilDiv(cin, vwi), slices}, null);
                reduceSlices(partial, dw1b, slices, 9 * cin);
                if (dxb != null) {
                    ctx.launch(kernel("depthwise_backward.cl", "depthwise_backward_data", dwOpts), "depthwise_backward_data").arg(xb).arg(dd)
                            .arg(w1b).arg(dxb).arg(inPixels).run(pixelGrid, null);
                }
            }
            case CONV1X1_SAME -> {
                if (dw2 != null) throw new IllegalArgumentException("dw2 must be null for a 1x1 conv");
                weightGradient(spec, 1, xb, dzb, cin, outPixels, spec.preRelu(), dw1b);
                if (dxb != null) {
                    ClBuffer wT = scratch(Scratch.WEIGHTS_T, (long) cin * cout);
                    transpose(w1b, wT, 1, cin, cout);
                    ClBuffer g = scratch(Scratch.GRAD_ROWS, (long) outPixels * cin);
                    rowsTimesMatrix(dzb, wT, g, outPixels, cout, cin);
                    int vwi = vectorWidth(cin);
                    String o = new BuildOptions().def("H", spec.h()).def("W", spec.w()).def("CIN", cin).def("OH", spec.outH()).def("OW", spec.outW())
                            .def("STRIDE", spec.stride()).def("VWI", vwi).def("PRE_RELU", spec.preRelu()).toString();
                    ctx.launch(kernel("conv1x1_backward_data.cl", "scatter_strided", o), "scatter_strided").arg(xb).arg(g).arg(dxb).arg(inPixels)
                            .run(new long[]{ceilDiv(cin, vwi), inPixels}, null);
                }
            }
            case CONV3X3_VALID -> {
                if (dw2 != null) throw new IllegalArgumentException("dw2 must be null for a 3x3 conv");
                weightGradient(spec, 2, xb, dzb, 9 * cin, outPixels, spec.preRelu(), dw1b);
                if (dxb != null) {
                    ClBuffer wT = scratch(Scratch.WEIGHTS_T, 9L * cin * cout);
                    transpose(w1b, wT, 9, cin, cout);
                    int vw = vectorWidth(cin);
                    String o = new BuildOptions().def("H", spec.h()).def("W", spec.w()).def("CIN", cin).def("COUT", cout).def("OH", spec.outH())
                            .def("OW", spec.outW()).def("STRIDE", spec.stride()).def("RM", RM).def("VW", vw).def("PRE_RELU", spec.preRelu()).toString();
                    long k = kernel("conv3x3_backward_data.cl", "conv3x3_backward_data", o);
                    launchRowTiled(k, ctx.launch(k, "conv3x3_backward_data").arg(xb).arg(dzb).arg(wT).arg(dxb).arg(inPixels), ceilDiv(cin, vw), inPixels);
                }
            }
        }
    }

    /**
     * dw (m, cout) = sum over pixels of A(p, m) dz[p, :], A by {@code aKind} (see gemm_tn_partial):
     * 0 dense rows a (pixels, m), 1 strided pixels of x, 2 im2col taps of x.
     */
    private void weightGradient(ConvSpec spec, int aKind, ClBuffer a, ClBuffer dz, int m, int pixels, boolean preRelu, ClBuffer dw) {
        int cout = spec.cout();
        int vw = vectorWidth(cout);
        int slice = Tiles.sliceLength(pixels, (long) m * cout);
        int slices = ceilDiv(pixels, slice);
        String o = new BuildOptions().def("M", m).def("NCOLS", cout).def("A_KIND", aKind).def("H", spec.h()).def("W", spec.w())
                .def("CIN", spec.cin()).def("OH", spec.outH()).def("OW", spec.outW()).def("STRIDE", spec.stride()).def("RM", RM)
                .def("VW", vw).def("PRE_RELU", preRelu).def("SLICE", slice).toString();
        ClBuffer partial = scratch(Scratch.PARTIAL, (long) slices * m * cout);
        int columnVectors = ceilDiv(cout, vw), rowTiles = ceilDiv(m, RM);
        long k = kernel("weight_gradient.cl", "gemm_tn_partial", o);
        int maxWg = (int) Math.min(1024, ctx.maxWorkGroupSize(k));
        int l0 = Math.min(columnVectors, maxWg);
        int l1 = Math.max(1, Math.min(rowTiles, maxWg / l0));
        ctx.launch(k, "gemm_tn_partial").arg(a).arg(dz).arg(partial).arg(pixels)
                .run(new long[]{(long) ceilDiv(columnVectors, l0) * l0, (long) ceilDiv(rowTiles, l1) * l1, slices}, new long[]{l0, l1, 1});
        reduceSlices(partial, dw, slices, m * cout);
    }

    private void reduceSlices(ClBuffer partial, ClBuffer out, int slices, int len) {
        ctx.launch(kernel("reduce_slices.cl", "reduce_slices", ""), "reduce_slices").arg(partial).arg(out).arg(slices).arg(len)
                .run(new long[]{ceilDiv(len, 16)}, null);
    }

    /** out (batches, cols, rows) = in (batches, rows, cols) transposed per batch. */
    private void transpose(ClBuffer in, ClBuffer out, int batches, int rows, int cols) {
        ctx.launch(kernel("transpose.cl", "transpose", ""), "transpose").arg(in).arg(out).arg(rows).arg(cols).run(new long[]{cols, rows, batches}, null);
    }

    /** c (rows, n) = a (rows, k) b (k, n): conv1x1s2_bn with stride 1 over a 1x1 "image" per row. */
    private void rowsTimesMatrix(ClBuffer a, ClBuffer b, ClBuffer c, int rows, int k, int n) {
        int vw = vectorWidth(n);
        String o = new BuildOptions().def("H", 1).def("W", 1).def("CIN", k).def("COUT", n).def("RM", RM).def("VW", vw).def("STRIDE", 1)
                .def("OH", 1).def("OW", 1).toString();
        long kern = kernel("conv1x1s2_bn.cl", "conv1x1s2_bn", o);
        launchRowTiled(kern, ctx.launch(kern, "conv1x1s2_bn").arg(a).arg(b).argOrNull(null).argOrNull(null).argOrNull(null).arg(c).arg(rows),
                ceilDiv(n, vw), rows);
    }

    @Override
    public synchronized void headTrain(HeadSpec spec, Buffer x, Buffer kernel, Buffer bias, Buffer labels, Buffer probs, Buffer loss,
                          Buffer dX, Buffer dKernel, Buffer dBias, float lossScale) {
        checkOpen();
        if (!spec.dense()) throw new IllegalArgumentException("headTrain needs the dense head (includeTop)");
        if (!(lossScale > 0) || Float.isInfinite(lossScale)) throw new IllegalArgumentException("headTrain: loss scale must be positive and finite, got " + lossScale);
        int n = spec.n(), c = spec.channels(), classes = spec.classes();
        long xElements = (long) n * spec.h() * spec.w() * c;
        ClBuffer xb = buf(x, "headTrain x " + shape(n, spec.h(), spec.w(), c), xElements);
        ClBuffer kb = buf(kernel, "headTrain kernel (C,classes)", (long) c * classes);
        ClBuffer bb = bias == null ? null : buf(bias, "headTrain bias (classes)", classes);
        ClBuffer lb = buf(labels, "headTrain labels (n)", n);
        ClBuffer pb = buf(probs, "headTrain probs (n,classes)", (long) n * classes);
        ClBuffer lossb = buf(loss, "headTrain loss (n)", n);
        ClBuffer dxb = buf(dX, "headTrain dX", xElements);
        ClBuffer dkb = buf(dKernel, "headTrain dKernel (C,classes)", (long) c * classes);
        ClBuffer dbb = dBias == null ? null : buf(dBias, "headTrain dBias (classes)", classes);
        if (bb == null && dbb != null) throw new IllegalArgumentException("headTrain: dBias given but bias is null");
        checkLabels(lb, n, classes);
        ClBuffer pooled = scratch(Scratch.POOLED, (long) n * c);
        String ho = headOptions(spec, false, bb != null, true);
        globalPool(spec, xb, false, pooled, ho);
        denseSoftmax(spec, pooled, kb, bb, pb, lb, lossb, ho);
        ClBuffer dlogits = scratch(Scratch.DLOGITS, (long) n * classes);
        int vw = vectorWidth(classes);
        String o = new BuildOptions().def("C", c).def("CLASSES", classes).def("HW", (long) spec.h() * spec.w()).def("VW", vw).toString();
        ctx.launch(kernel("head_train.cl", "softmax_xent_backward", o), "softmax_xent_backward").arg(pb).arg(lb).arg(dlogits).arg(n)
                .arg(lossScale).run(new long[]{classes, n}, null);
        ctx.launch(kernel("head_train.cl", "dense_backward_kernel", o), "dense_backward_kernel").arg(pooled).arg(dlogits).arg(dkb).arg(n)
                .run(new long[]{ceilDiv(classes, vw), c}, null);
        if (dbb != null) {
            ctx.launch(kernel("head_train.cl", "dense_backward_bias", o), "dense_backward_bias").arg(dlogits).arg(dbb).arg(n).run(new long[]{classes}, null);
        }
        ctx.launch(kernel("head_train.cl", "dense_backward_input", o), "dense_backward_input").arg(dlogits).arg(kb).arg(dxb).arg(n)
                .run(new long[]{c, n}, null);
    }

    /** Labels are class indices stored as floats; reading n floats back is cheap next to the step. */
    private void checkLabels(ClBuffer labels, int n, int classes) {
        float[] v = new float[n];
        ctx.download(labels, 0, v, 0, n);
        for (int i = 0; i < n; i++) {
            if (v[i] != Math.rint(v[i]) || v[i] < 0 || v[i] >= classes) {
                throw new IllegalArgumentException("headTrain: label of example " + i + " is " + v[i] + ", expected a class index in [0, " + classes + ")");
            }
        }
    }

    @Override
    public synchronized void maxPoolBackward(PoolSpec spec, Buffer x, Buffer dy, Buffer dx) {
        checkOpen();
        ClBuffer xb = buf(x, "maxPoolBackward x " + shape(spec.n(), spec.h(), spec.w(), spec.c()), spec.inputElements());
        ClBuffer dyb = buf(dy, "maxPoolBackward dy " + shape(spec.n(), spec.outH(), spec.outW(), spec.c()), spec.outputElements());
        ClBuffer dxb = buf(dx, "maxPoolBackward dx", spec.inputElements());
        int vwi = vectorWidth(spec.c());
        int inPixels = Math.toIntExact((long) spec.n() * spec.h() * spec.w());
        long k = kernel("maxpool_add.cl", "maxpool_backward", poolOptions(spec, vwi).toString());
        ctx.launch(k, "maxpool_backward").arg(xb).arg(dyb).arg(dxb).arg(inPixels).run(new long[]{ceilDiv(spec.c(), vwi), inPixels}, null);
    }

    @Override
    public synchronized void addInPlace(Buffer dst, Buffer src, long count) {
        checkOpen();
        ClBuffer d = buf(dst, "addInPlace dst", count), s = buf(src, "addInPlace src", count);
        if (count == 0) return;
        ctx.launch(kernel("elementwise.cl", "add_inplace", ""), "add_inplace").arg(d).arg(s).arg(count).run(new long[]{ceilDiv(count, 16)}, null);
    }

    @Override
    public synchronized void sgdUpdate(Buffer param, Buffer grad, Buffer velocity, long count, float lr, float momentum, float weightDecay) {
        checkOpen();
        ClBuffer p = buf(param, "sgdUpdate param", count), g = buf(grad, "sgdUpdate grad", count), v = buf(velocity, "sgdUpdate velocity", count);
        if (count == 0) return;
        ctx.launch(kernel("elementwise.cl", "sgd_update", ""), "sgd_update").arg(p).arg(g).arg(v).arg(count).arg(lr).arg(momentum).arg(weightDecay)
                .run(new long[]{ceilDiv(count, 16)}, null);
    }

    @Override
    public synchronized void unscaleGradient(Buffer grad, long count, float factor, Buffer overflow) {
        checkOpen();
        ClBuffer g = buf(grad, "unscaleGradient grad", count), f = buf(overflow, "unscaleGradient overflow (1)", 1);
        if (count == 0) return;
        ctx.launch(kernel("elementwise.cl", "unscale_gradient", ""), "unscale_gradient").arg(g).arg(f).arg(count).arg(factor)
                .run(new long[]{ceilDiv(count, 16)}, null);
    }

    /** Sets {@code count} floats of {@code dst} to {@code value} (used by tests to poison outputs). */
    public synchronized void fill(Buffer dst, long count, float value) {
        checkOpen();
        ClBuffer d = buf(dst, "fill dst", count);
        if (count == 0) return;
        ctx.launch(kernel("elementwise.cl", "fill", ""), "fill").arg(d).arg(count).arg(value).run(new long[]{ceilDiv(count, 16)}, null);
    }

    // ------------------------------------------------------------------------------------- plumbing

    private long kernel(String file, String kernelName, String options) { return ctx.kernel(file, kernelName, options); }

    /** A scratch buffer of at least {@code elements} floats for one role, grown (never shrunk) as needed. */
    private ClBuffer scratch(Scratch role, long elements) {
        ClBuffer b = scratch[role.ordinal()];
        if (b != null && b.elements() >= elements) return b;
        if (b != null) ctx.free(b); // earlier launches that use it keep it alive until they finish
        b = ctx.allocate(Math.max(elements, 1));
        scratch[role.ordinal()] = b;
        return b;
    }

    private ClBuffer buf(Buffer b, String role, long minElements) {
        if (b == null) throw new IllegalArgumentException(role + " is null");
        if (!(b instanceof ClBuffer cb) || cb.owner() != this) {
            throw new IllegalArgumentException(role + " is a " + b.getClass().getSimpleName() + " not allocated by " + name + ": allocate it with this backend");
        }
        if (!cb.isOpen()) throw new IllegalStateException(role + " was closed");
        if (cb.elements() < minElements) {
            throw new IllegalArgumentException(role + " holds " + cb.elements() + " floats, needs " + minElements);
        }
        return cb;
    }

    private static String shape(int n, int h, int w, int c) { return "(" + n + "," + h + "," + w + "," + c + ")"; }

    private void checkOpen() {
        if (closed) throw new IllegalStateException(name + " is closed");
    }

    /** Waits for queued work, then releases every buffer, kernel, program, the queue and the context. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        java.util.Arrays.fill(scratch, null);
        pixelValues = null;
        ctx.close();
    }
}
