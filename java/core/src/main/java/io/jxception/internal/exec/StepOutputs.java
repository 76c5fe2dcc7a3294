package io.jxception.internal.exec;

import io.jxception.internal.backend.OverlappedTransfers;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;

/**
 * The per-example loss (batch) and the probabilities (batch, classes) of one training step
 * ({@link TrainingSession#deferStep}): either already on the host, or on their way there behind the
 * step on the device's compute queue. The first {@link #loss} or {@link #probabilities} waits for
 * the copies; both read the same values. Closing releases the page-locked memory of the copies.
 */
public final class StepOutputs implements AutoCloseable {
    private final int batch, classes;
    private OverlappedTransfers.PendingDownload lossCopy, probsCopy;   // null once read (or when read at once)
    private float[] lossValues, probValues;                            // (batch), (batch * classes) once read
    private boolean closed;

    /** Values the host already holds. */
    StepOutputs(int batch, int classes, float[] loss, float[] probs) {
        this.batch = batch;
        this.classes = classes;
        this.lossValues = loss;
        this.probValues = probs;
    }

    /** Values on their way: {@code loss} copies (batch) values, {@code probs} (batch * classes). */
    StepOutputs(int batch, int classes, OverlappedTransfers.PendingDownload loss, OverlappedTransfers.PendingDownload probs) {
        this.batch = batch;
        this.classes = classes;
        this.lossCopy = loss;
        this.probsCopy = probs;
    }

    /**
     * The step's mean loss (unscaled), waiting for the step if it has not finished.
     *
     * @throws ArithmeticException when it is not finite (as {@link TrainingSession#awaitLoss})
     */
    public double loss() {
        read();
        return meanLoss(lossValues);
    }

    /** The step's probabilities (batch, classes), waiting for the step if it has not finished. */
    public Tensor probabilities() {
        read();
        return new Tensor(Shape.of(batch, classes), probValues.clone());
    }

    private void read() {
        if (closed) throw new IllegalStateException("step outputs are closed");
        if (lossCopy == null) return;
        float[] l = new float[batch], p = new float[batch * classes];
        lossCopy.await(l, 0);
        probsCopy.await(p, 0);
        lossValues = l;
        probValues = p;
        release();
    }

    private void release() {
        try {
            if (lossCopy != null) lossCopy.close();
        } finally {
            if (probsCopy != null) probsCopy.close();
            lossCopy = null;
            probsCopy = null;
        }
    }

    @Override public void close() {
        if (closed) return;
        closed = true;
        release();
    }

    /** The mean of per-example losses, summed in float64 in example order. */
    static double meanLoss(float[] perExample) {
        double sum = 0;
        for (float v : perExample) sum += v;
        double mean = sum / perExample.length;
        if (!Double.isFinite(mean)) throw new ArithmeticException("the loss is not finite (" + mean + ")");
        return mean;
    }
}
