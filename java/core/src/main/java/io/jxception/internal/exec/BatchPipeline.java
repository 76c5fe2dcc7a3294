package io.jxception.internal.exec;

import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.backend.OverlappedTransfers;
import io.jxception.internal.backend.OverlappedTransfers.Fence;
import io.jxception.internal.backend.OverlappedTransfers.PendingDownload;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.tensor.Uint8Tensor;

import java.util.Iterator;
import java.util.function.BiConsumer;

/**
 * {@link ForwardSession#runAll}: many batches through one session with the host→device copy of
 * batch i+1 running while the device computes batch i. Two input buffers alternate (batch i reads
 * input[i % 2]); per batch, on the host:
 * <pre>
 *   validate batch i, stage it and enqueue its copy into input[i%2] on the copy queue,
 *       starting after fence[i-2] (the forward that last read input[i%2])
 *   enqueue forward i on the compute queue (it waits for the copy), fence[i] = end of forward i
 *   enqueue the download of output i on the compute queue (before forward i+1 can overwrite it)
 *   hand over output i-1 (its download finished before forward i started)
 * </pre>
 * so the host stages batch i+1 while forward i runs. The output slot is read out before the next
 * forward is enqueued, so the activation plan needs no second output buffer. Batches are float32
 * ({@link #FLOAT32}) or raw uint8 pixels ({@link #UINT8}, a quarter of the bytes to copy).
 */
final class BatchPipeline {
    private BatchPipeline() {}

    /** How the pipeline checks, copies and runs one kind of host batch. */
    interface Kind<T> {
        /** Validates the batch as the session's run would; returns its image count. */
        int check(ForwardSession session, T batch);

        /** Enqueues the batch's copy into {@code dst} on the copy queue after {@code after}. */
        void uploadAsync(OverlappedTransfers transfers, T batch, Buffer dst, Fence after);

        /** The whole batch the plain way (a backend without a copy queue). */
        Tensor run(ForwardSession session, T batch);

        boolean uint8();
    }

    static final Kind<Tensor> FLOAT32 = new Kind<>() {
        @Override public int check(ForwardSession s, Tensor b) { return s.checkInput(b); }

        @Override public void uploadAsync(OverlappedTransfers t, Tensor b, Buffer dst, Fence after) { t.uploadAsync(b.data(), 0, dst, 0, b.size(), after); }

        @Override public Tensor run(ForwardSession s, Tensor b) { return s.run(b); }

        @Override public boolean uint8() { return false; }
    };

    static final Kind<Uint8Tensor> UINT8 = new Kind<>() {
        @Override public int check(ForwardSession s, Uint8Tensor b) { return s.checkInput(b); }

        @Override public void uploadAsync(OverlappedTransfers t, Uint8Tensor b, Buffer dst, Fence after) { t.uploadUint8Async(b.data(), 0, dst, 0, b.size(), after); }

        @Override public Tensor run(ForwardSession s, Uint8Tensor b) { return s.run(b); }

        @Override public boolean uint8() { return true; }
    };

    static <T> int run(ForwardSession session, Iterator<T> batches, BiConsumer<Integer, Tensor> outputs, Kind<T> kind) {
        KernelBackend backend = session.backend();
        if (!(backend instanceof OverlappedTransfers transfers)) {
            int i = 0;
            while (batches.hasNext()) {
                T x = batches.next();
                Tensor y;
                try {
                    y = kind.run(session, x);
                } catch (IllegalArgumentException badBatch) {
                    throw new IllegalArgumentException("batch " + i + ": " + badBatch.getMessage(), badBatch);
                }
                outputs.accept(i++, y);
            }
            return i;
        }
        Fence[] fences = new Fence[2];               // [k]: after the last forward that read input[k]
        PendingDownload previous = null;             // output of batch i-1
        int previousN = 0;
        int i = 0;
        try {
            while (batches.hasNext()) {
                T x = batches.next();
                int n;
                try {
                    n = kind.check(session, x);
                } catch (RuntimeException badBatch) {
                    if (previous != null) deliver(session, previous, previousN, i - 1, outputs);
                    previous = null;
                    throw new IllegalArgumentException("batch " + i + ": " + badBatch.getMessage(), badBatch);
                }
                int k = i % 2;
                kind.uploadAsync(transfers, x, session.inputBuffer(k), fences[k]);
                session.markInput(k, kind.uint8());
                session.selectInput(k);
                session.enqueueForward(n, null);
                if (fences[k] != null) fences[k].close();
                fences[k] = transfers.fence();
                Shape outShape = session.outputShape(n);
                PendingDownload current = transfers.downloadAsync(session.outputBuffer(), 0, outShape.size());
                if (previous != null) {
                    PendingDownload p = previous;
                    previous = null;
                    deliver(session, p, previousN, i - 1, outputs);
                }
                previous = current;
                previousN = n;
                i++;
            }
            if (previous != null) {
                PendingDownload p = previous;
                previous = null;
                deliver(session, p, previousN, i - 1, outputs);
            }
            return i;
        } finally {
            if (previous != null) previous.close();
            for (Fence f : fences) if (f != null) f.close();
            session.selectInput(0);
        }
    }

    private static void deliver(ForwardSession session, PendingDownload download, int n, int index, BiConsumer<Integer, Tensor> outputs) {
        Tensor y;
        try (download) {
            Shape shape = session.outputShape(n);
            float[] data = new float[shape.size()];
            download.await(data, 0);
            y = session.checkedOutput(new Tensor(shape, data));
        }
        outputs.accept(index, y);
    }
}
