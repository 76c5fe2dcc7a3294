package io.jxception.exec;

import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.backend.BatchNormSpec;
import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.Epilogue;
import io.jxception.internal.backend.HeadSpec;
import io.jxception.internal.backend.LaunchRecording;
import io.jxception.internal.backend.OverlappedTransfers;
import io.jxception.internal.backend.PoolSpec;
import io.jxception.backend.Precision;
import io.jxception.internal.backend.cpu.CpuBackend;

import java.util.ArrayList;
import java.util.List;

/**
 * Test double of an asynchronous device: the CPU reference behind a compute queue that runs nothing
 * until the host waits (download, synchronize, await), and a copy queue that runs each
 * {@link #uploadAsync} as EARLY as its fence allows, even before compute ops enqueued earlier. So a
 * caller that passes too early a fence (or none) sees its copy overwrite a buffer that queued
 * launches still read, and its results go wrong; a caller that orders correctly gets the reference's
 * results bit for bit. Records launches ({@link LaunchRecording}) as lists of deferred ops.
 */
public final class DeferredQueueBackend implements KernelBackend, LaunchRecording, OverlappedTransfers {
    /** A queued op; copies carry seq -1 and sit before the compute op their fence allows. */
    private record Op(long seq, Runnable run) {}

    private final CpuBackend cpu = new CpuBackend(2);
    private final List<Op> queue = new ArrayList<>();
    private long enqueued;    // compute ops enqueued so far (the next one's seq)
    private long executed;    // compute ops run so far
    private List<Runnable> recording;   // non-null while recording
    int recordings, replays, earlyCopies;
    private int idleWaits;   // times the host waited until nothing was left queued

    /**
     * Times the host has waited (download, synchronize, await) until nothing was left queued: a GPU would
     * then idle until the host enqueued more.
     */
    public int idleWaits() { return idleWaits; }

    private void compute(Runnable op) {
        if (recording != null) { recording.add(op); return; }
        queue.add(new Op(enqueued++, op));
    }

    public DeferredQueueBackend() {}

    /** Ops (compute and copies) enqueued and not run yet: what the host has not waited for. */
    public int queuedOps() { return queue.size(); }

    /** Runs every queued op in order. */
    void flush() {
        if (!queue.isEmpty()) idleWaits++;
        while (!queue.isEmpty()) {
            Op op = queue.remove(0);
            op.run().run();
            if (op.seq() >= 0) executed = op.seq() + 1;
        }
    }

    /** Runs queued ops up to and including compute op {@code seq}, and no further (a device that is just that far). */
    private void flushThrough(long seq) {
        boolean ran = false;
        while (executed <= seq && !queue.isEmpty()) {
            Op op = queue.remove(0);
            op.run().run();
            if (op.seq() >= 0) executed = op.seq() + 1;
            ran = true;
        }
        if (ran && queue.isEmpty()) idleWaits++;
    }

    private void notRecording(String what) {
        if (recording != null) throw new IllegalStateException(what + " while recording");
    }

    // ------------------------------------------------------------------ OverlappedTransfers

    private record SeqFence(long seq) implements Fence {
        @Override public void close() {}
    }

    @Override public Fence fence() { notRecording("fence"); return new SeqFence(enqueued); }

    @Override public void uploadAsync(float[] src, int srcOffset, Buffer dst, long dstOffset, int count, Fence after) {
        notRecording("uploadAsync");
        float[] staged = java.util.Arrays.copyOfRange(src, srcOffset, srcOffset + count);
        enqueueCopy(() -> cpu.upload(staged, 0, dst, dstOffset, count), after);
    }

    @Override public void uploadUint8Async(byte[] src, int srcOffset, Buffer dst, long dstOffset, int count, Fence after) {
        notRecording("uploadUint8Async");
        byte[] staged = java.util.Arrays.copyOfRange(src, srcOffset, srcOffset + count);
        enqueueCopy(() -> cpu.uploadUint8(staged, 0, dst, dstOffset, count), after);
    }

    /** Runs {@code copy} as early as the fence {@code after} allows (see the class comment). */
    private void enqueueCopy(Runnable copy, Fence after) {
        long allowedAfter = after == null ? 0 : ((SeqFence) after).seq();   // compute ops that must run first
        if (allowedAfter <= executed) {
            if (!queue.isEmpty() && queue.get(0).seq() >= 0) earlyCopies++;
            copy.run();
            return;
        }
        int at = 0;   // before the first compute op with seq >= allowedAfter
        while (at < queue.size() && (queue.get(at).seq() < 0 || queue.get(at).seq() < allowedAfter)) at++;
        if (at < queue.size()) earlyCopies++;
        queue.add(at, new Op(-1, copy));
    }

    @Override public PendingDownload downloadAsync(Buffer src, long srcOffset, int count) {
        notRecording("downloadAsync");
        float[] host = new float[count];
        long seq = enqueued;
        compute(() -> cpu.download(src, srcOffset, host, 0, count));
        return new PendingDownload() {
            @Override public void await(float[] dst, int dstOffset) { flushThrough(seq); System.arraycopy(host, 0, dst, dstOffset, count); }
            @Override public int count() { return count; }
            @Override public void close() {}
        };
    }

    // ------------------------------------------------------------------ LaunchRecording

    @Override public Recording record(Runnable enqueue) {
        notRecording("record");
        List<Runnable> ops = new ArrayList<>();
        recording = ops;
        try {
            enqueue.run();
        } finally {
            recording = null;
        }
        recordings++;
        return new Recording() {
            @Override public void replay() { replays++; for (Runnable op : ops) compute(op); }
            @Override public int launches() { return ops.size(); }
            @Override public void close() {}
        };
    }

    // ------------------------------------------------------------------ KernelBackend

    @Override public String name() { return "deferred-cpu"; }
    @Override public String description() { return "CPU reference behind a deferred queue (test double)"; }
    @Override public Precision precision() { return Precision.FP32; }
    @Override public Buffer allocate(long elements) { return cpu.allocate(elements); }

    @Override public void upload(float[] src, int srcOffset, Buffer dst, long dstOffset, int count) {
        notRecording("upload");
        flush();
        cpu.upload(src, srcOffset, dst, dstOffset, count);
    }

    @Override public void uploadUint8(byte[] src, int srcOffset, Buffer dst, long dstOffset, int count) {
        notRecording("uploadUint8");
        flush();
        cpu.uploadUint8(src, srcOffset, dst, dstOffset, count);
    }

    @Override public void download(Buffer src, long srcOffset, float[] dst, int dstOffset, int count) {
        notRecording("download");
        flush();
        cpu.download(src, srcOffset, dst, dstOffset, count);
    }

    @Override public void synchronize() { notRecording("synchronize"); flush(); }

    @Override public void conv(ConvSpec spec, Buffer x, Buffer w1, Buffer w2, Epilogue epilogue, Buffer y) {
        compute(() -> cpu.conv(spec, x, w1, w2, epilogue, y));
    }

    @Override public void convUint8(ConvSpec spec, Buffer pixels, Buffer w1, Epilogue epilogue, Buffer y) {
        compute(() -> cpu.convUint8(spec, pixels, w1, epilogue, y));
    }

    @Override public void batchNormTrain(BatchNormSpec spec, Buffer z, Buffer gamma, Buffer beta, Buffer residual, Buffer y,
                                         Buffer mean, Buffer invStd, Buffer movingMean, Buffer movingVar) {
        compute(() -> cpu.batchNormTrain(spec, z, gamma, beta, residual, y, mean, invStd, movingMean, movingVar));
    }

    @Override public void maxPoolAdd(PoolSpec spec, Buffer x, Buffer residual, Buffer y) { compute(() -> cpu.maxPoolAdd(spec, x, residual, y)); }

    @Override public void head(HeadSpec spec, Buffer x, Buffer kernel, Buffer bias, Buffer y) { compute(() -> cpu.head(spec, x, kernel, bias, y)); }

    @Override public void headTrain(HeadSpec spec, Buffer x, Buffer kernel, Buffer bias, Buffer labels, Buffer probs, Buffer loss,
                                    Buffer dX, Buffer dKernel, Buffer dBias, float lossScale) {
        compute(() -> cpu.headTrain(spec, x, kernel, bias, labels, probs, loss, dX, dKernel, dBias, lossScale));
    }

    @Override public void batchNormTrainBackward(BatchNormSpec spec, Buffer z, Buffer y, Buffer dy, Buffer gamma, Buffer mean,
                                                 Buffer invStd, Buffer dz, Buffer dyMasked, Buffer dGamma, Buffer dBeta) {
        compute(() -> cpu.batchNormTrainBackward(spec, z, y, dy, gamma, mean, invStd, dz, dyMasked, dGamma, dBeta));
    }

    @Override public void batchNormSums(BatchNormSpec spec, Buffer z, double[] mean, double[] sums) {
        notRecording("batchNormSums");
        flush();
        cpu.batchNormSums(spec, z, mean, sums);
    }

    @Override public void batchNormApply(BatchNormSpec spec, Buffer z, double[] mean, double[] variance, Buffer gamma, Buffer beta, Buffer residual,
                                         Buffer y, Buffer meanOut, Buffer invStdOut, Buffer movingMean, Buffer movingVar) {
        double[] m = mean.clone(), v = variance.clone();
        compute(() -> cpu.batchNormApply(spec, z, m, v, gamma, beta, residual, y, meanOut, invStdOut, movingMean, movingVar));
    }

    @Override public void batchNormBackwardSums(BatchNormSpec spec, Buffer z, Buffer y, Buffer dy, Buffer mean, Buffer invStd, double[] dGamma, double[] dBeta) {
        notRecording("batchNormBackwardSums");
        flush();
        cpu.batchNormBackwardSums(spec, z, y, dy, mean, invStd, dGamma, dBeta);
    }

    @Override public void batchNormBackwardApply(BatchNormSpec spec, long statisticsRows, Buffer z, Buffer y, Buffer dy, Buffer gamma, Buffer mean,
                                                 Buffer invStd, double[] dGammaSum, double[] dBetaSum, Buffer dz, Buffer dyMasked, Buffer dGamma, Buffer dBeta) {
        double[] g = dGammaSum.clone(), b = dBetaSum.clone();
        compute(() -> cpu.batchNormBackwardApply(spec, statisticsRows, z, y, dy, gamma, mean, invStd, g, b, dz, dyMasked, dGamma, dBeta));
    }

    @Override public void convBackward(ConvSpec spec, Buffer x, Buffer w1, Buffer w2, Buffer dz, Buffer dx, Buffer dw1, Buffer dw2) {
        compute(() -> cpu.convBackward(spec, x, w1, w2, dz, dx, dw1, dw2));
    }

    @Override public void maxPoolBackward(PoolSpec spec, Buffer x, Buffer dy, Buffer dx) { compute(() -> cpu.maxPoolBackward(spec, x, dy, dx)); }

    @Override public void addInPlace(Buffer dst, Buffer src, long count) { compute(() -> cpu.addInPlace(dst, src, count)); }

    @Override public void sgdUpdate(Buffer param, Buffer grad, Buffer velocity, long count, float lr, float momentum, float weightDecay) {
        compute(() -> cpu.sgdUpdate(param, grad, velocity, count, lr, momentum, weightDecay));
    }

    @Override public void unscaleGradient(Buffer grad, long count, float factor, Buffer overflow) {
        compute(() -> cpu.unscaleGradient(grad, count, factor, overflow));
    }

    @Override public void close() { flush(); cpu.close(); }
}
