package io.jxception.bench;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * A one-line progress bar on a terminal stream (stderr), redrawn in place with '\r'. It stays
 * silent for the first {@link #QUIET_NANOS} (2 s) so that quick runs print nothing, and redraws at most
 * five times a second.
 */
public final class ProgressBar implements Progress, AutoCloseable {
    static final long QUIET_NANOS = 2_000_000_000L;
    private final long quietNanos;
    private static final int WIDTH = 30;
    private final PrintWriter out;
    private final long start = System.nanoTime();
    private long total, done, lastDraw;
    private String what = "";
    private boolean shown;

    public ProgressBar(PrintWriter out) { this(out, QUIET_NANOS); }

    ProgressBar(PrintWriter out, long quietNanos) {
        this.out = out;
        this.quietNanos = quietNanos;
    }

    @Override
    public synchronized void addTotal(long units) { total += units; }

    @Override
    public synchronized void advance(long units, String what) {
        done += units;
        this.what = what;
        long now = System.nanoTime();
        if (now - start < quietNanos || now - lastDraw < 200_000_000L) return;
        lastDraw = now;
        draw(now);
    }

    private void draw(long now) {
        double fraction = total == 0 ? 0 : Math.min(1, (double) done / total);
        int filled = (int) Math.round(fraction * WIDTH);
        long seconds = (now - start) / 1_000_000_000L;
        String line = String.format(Locale.ROOT, "\r[%s%s] %3d%% %d:%02d %s", "=".repeat(filled), " ".repeat(WIDTH - filled),
                Math.round(fraction * 100), seconds / 60, seconds % 60, what);
        // pad to clear a longer previous line, cut to a typical terminal width
        out.print(line.length() > 100 ? line.substring(0, 100) : String.format("%-100s", line));
        out.flush();
        shown = true;
    }

    /** Draws the final state and ends the line if the bar was ever shown. */
    @Override
    public synchronized void close() {
        if (!shown) return;
        draw(System.nanoTime());
        out.println();
    }
}
