package io.jxception.cli;

import io.jxception.progress.ProgressBar;
import io.jxception.train.EpochRecord;
import io.jxception.train.TrainingListener;

import java.io.PrintWriter;
import java.util.Locale;

/** {@code jxception train}'s display of a run: its messages as lines, one progress bar per epoch, each epoch's summary. */
final class TrainingProgress implements TrainingListener, AutoCloseable {
    private final PrintWriter out;
    private final boolean redraw;
    private ProgressBar bar;
    private boolean checking; // the bar is the image check's

    /** @param redraw redraw the bar in place (a terminal) rather than print a line per tenth (a log) */
    TrainingProgress(PrintWriter out, boolean redraw) {
        this.out = out;
        this.redraw = redraw;
    }

    @Override public void message(String line) {
        endBar();
        out.println(line);
    }

    @Override public void imagesChecked(int checked, int total) {
        if (!checking) {
            endBar();
            bar = new ProgressBar(out, "checking images", total, redraw, 0);
            checking = true;
        }
        bar.update(checked, "");
        if (checked == total) endBar();
    }

    @Override public void epochStarted(int epoch, int epochs, int batches, int batchesDone) {
        endBar();
        bar = new ProgressBar(out, String.format(Locale.ROOT, "epoch %d/%d", epoch + 1, epochs), batches, redraw, 0);
    }

    @Override public void stepDone(int batchesDone, double meanLoss, double accuracy, double imagesPerSecond) {
        if (bar != null) bar.update(batchesDone, String.format(Locale.ROOT, "loss %.4f acc %.3f %.1f img/s", meanLoss, accuracy, imagesPerSecond));
    }

    @Override public void epochEnded(EpochRecord record, String summary) { message(summary); }

    @Override public void epochStopped(String why) { message(why); }

    /** Ends a bar still drawn (a run that failed mid-epoch), so what follows starts on its own line. */
    @Override public void close() { endBar(); }

    private void endBar() {
        if (bar == null) return;
        bar.close();
        bar = null;
        checking = false;
    }
}
