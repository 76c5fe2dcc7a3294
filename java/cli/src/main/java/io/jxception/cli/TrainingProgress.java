package io.jxception.cli;

import io.jxception.progress.ProgressBar;
import io.jxception.train.EpochRecord;
import io.jxception.train.Trainer;
import io.jxception.train.TrainingListener;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * {@code jxception train}'s display of a run: its messages as lines, one progress bar per epoch, each
 * epoch's summary. In a job of several processes every line starts with {@code [rank r/n]}, and only
 * rank 0 shows the run (the numbers are the same on every rank); the others print only errors
 * ({@link #error}) and their final line.
 */
final class TrainingProgress implements TrainingListener, AutoCloseable {
    private final PrintWriter out;
    private final boolean redraw;
    private final int rank, size;
    private final String prefix;
    private ProgressBar bar;
    private Trainer.ProcessTimes times;
    private boolean checking; // the bar is the image check's

    /** @param redraw redraw the bar in place (a terminal) rather than print a line per tenth (a log) */
    TrainingProgress(PrintWriter out, boolean redraw) {
        this(out, redraw, 0, 1);
    }

    /** The display of rank {@code rank} of {@code size} processes. */
    TrainingProgress(PrintWriter out, boolean redraw, int rank, int size) {
        this.out = out;
        this.redraw = redraw;
        this.rank = rank;
        this.size = size;
        this.prefix = JobFailure.prefix(rank, size);
    }

    private boolean shows() { return rank == 0; }

    @Override public void message(String line) {
        if (!shows()) return;
        say(line);
    }

    @Override public synchronized void imagesChecked(int checked, int total) {
        if (!shows()) return;
        if (!checking) {
            endBar();
            bar = new ProgressBar(out, prefix + "checking images", total, redraw, 0);
            checking = true;
        }
        bar.update(checked, "");
        if (checked == total) endBar();
    }

    /** A line every rank prints (a signal received, an error). */
    synchronized void say(String line) {
        endBar();
        out.println(prefix + line);
        out.flush();
    }

    @Override public synchronized void epochStarted(int epoch, int epochs, int batches, int batchesDone) {
        if (!shows()) return;
        endBar();
        bar = new ProgressBar(out, String.format(Locale.ROOT, "%sepoch %d/%d", prefix, epoch + 1, epochs), batches, redraw, 0);
    }

    @Override public void processTimes(Trainer.ProcessTimes t) { times = t; }

    /** This process's times of a data-parallel run, or null. */
    Trainer.ProcessTimes times() { return times; }

    @Override public synchronized void stepDone(int batchesDone, double meanLoss, double accuracy, double imagesPerSecond) {
        if (bar != null) bar.update(batchesDone, String.format(Locale.ROOT, "loss %.4f acc %.3f %.1f img/s", meanLoss, accuracy, imagesPerSecond));
    }

    @Override public void epochEnded(EpochRecord record, String summary) { message(summary); }

    @Override public void epochStopped(String why) {
        if (why.startsWith("stopped after step") && !why.contains("(max steps)")) say(why); // a stop asked for: every rank says where it stopped
        else message(why);
    }


    /** Ends a bar still drawn (a run that failed mid-epoch), so what follows starts on its own line. */
    @Override public synchronized void close() { endBar(); }

    private void endBar() {
        if (bar == null) return;
        bar.close();
        bar = null;
        checking = false;
    }
}
