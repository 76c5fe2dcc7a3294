package io.jxception.internal.exec;

import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.backend.OverlappedTransfers;
import io.jxception.internal.backend.OverlappedTransfers.Fence;
import io.jxception.internal.backend.OverlappedTransfers.PendingDownload;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;

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
 * forward is enqueued, so the activation plan needs no second output buffer.
 */
final class BatchPipeline {
    private BatchPipeline() {}

    static int run(ForwardSession session, Iterator<Tensor> batches, BiConsumer<Integer, Tensor> outputs) {
        KernelBackend backend = session.backend();
        if (!(backend instanceof OverlappedTransfers transfers)) {
            int i = 0;
            while (batches.hasNext()) {
                Tensor x = batches.next();
                outputs.accept(i++, session.run(x));
            }
            return i;
        }
        Fence[] fences = new Fence[2];               // [k]: after the last forward that read input[k]
        PendingDownload previous = null;             // output of batch i-1
        int previousN = 0;
        int i = 0;
        try {
            while (batches.hasNext()) {
                Tensor x = batches.next();
                int n;
                try {
                    n = session.checkInput(x);
                } catch (RuntimeException badBatch) {
                    if (previous != null) deliver(session, previous, previousN, i - 1, outputs);
                    previous = null;
                    throw new IllegalArgumentException("batch " + i + ": " + badBatch.getMessage(), badBatch);
                }
                int k = i % 2;
                transfers.uploadAsync(x.data(), 0, session.inputBuffer(k), 0, x.size(), fences[k]);
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
