package io.jxception.train;

import java.util.List;
import java.util.Locale;

/**
 * One row of the training log: what an epoch did.
 *
 * <p>Immutable.
 *
 * @param epoch            1-based
 * @param step             SGD steps done by the end of this epoch (whole run)
 * @param learningRate     rate of the epoch's last step
 * @param trainLoss        mean softmax cross-entropy over the epoch's batches (BN in training mode)
 * @param trainAccuracy    top-1 accuracy over the same batches
 * @param valLoss          validation loss with BN in inference mode (moving statistics), NaN without validation
 * @param valAccuracy      validation top-1 accuracy, NaN without validation
 * @param imagesPerSecond  training images per second of wall time (decode waits included, validation excluded)
 * @param seconds          wall time of the epoch's training steps
 * @param dataWaitSeconds  part of {@code seconds} the trainer spent waiting for the loader
 * @param skippedSteps     steps skipped by the loss scaler (fp16 overflow) in this epoch
 */
public record EpochRecord(int epoch, long step, double learningRate, double trainLoss, double trainAccuracy,
                          double valLoss, double valAccuracy, double imagesPerSecond, double seconds,
                          double dataWaitSeconds, long skippedSteps) {
    /** The header row of the training log. */
    public static final String CSV_HEADER =
            "epoch,step,learning_rate,train_loss,train_accuracy,val_loss,val_accuracy,images_per_second,seconds,data_wait_seconds,skipped_steps";

    /** This record as one row of the training log (no line end). */
    public String toCsv() {
        return String.format(Locale.ROOT, "%d,%d,%.6g,%.6f,%.6f,%.6f,%.6f,%.2f,%.3f,%.3f,%d", epoch, step, learningRate,
                trainLoss, trainAccuracy, valLoss, valAccuracy, imagesPerSecond, seconds, dataWaitSeconds, skippedSteps);
    }

    /**
     * One row of the training log.
     *
     * @throws IllegalArgumentException when the row is not 11 numbers
     */
    public static EpochRecord parseCsv(String line) {
        String[] f = line.trim().split(",");
        if (f.length != 11) throw new IllegalArgumentException("training log row has " + f.length + " fields, expected 11: " + line);
        return new EpochRecord(Integer.parseInt(f[0]), Long.parseLong(f[1]), Double.parseDouble(f[2]), Double.parseDouble(f[3]),
                Double.parseDouble(f[4]), Double.parseDouble(f[5]), Double.parseDouble(f[6]), Double.parseDouble(f[7]),
                Double.parseDouble(f[8]), Double.parseDouble(f[9]), Long.parseLong(f[10]));
    }

    /** The header plus one line per record. */
    public static String csv(List<EpochRecord> records) {
        StringBuilder sb = new StringBuilder(CSV_HEADER).append('\n');
        for (EpochRecord r : records) sb.append(r.toCsv()).append('\n');
        return sb.toString();
    }

    /**
     * Every row of a training log ({@link #csv}).
     *
     * @throws IllegalArgumentException when the header differs or a row is malformed
     */
    public static List<EpochRecord> parseCsvTable(String text) {
        String[] lines = text.split("\n");
        if (lines.length == 0 || !lines[0].trim().equals(CSV_HEADER)) throw new IllegalArgumentException("not a jxception training log (header differs)");
        java.util.List<EpochRecord> out = new java.util.ArrayList<>();
        for (int i = 1; i < lines.length; i++) if (!lines[i].isBlank()) out.add(parseCsv(lines[i]));
        return out;
    }
}
