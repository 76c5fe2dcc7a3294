package io.jxception.progress;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * The one progress line of every long command ({@code bench}, {@code infer}, {@code train}), on stderr:
 * <pre>  epoch 3/10 [==========>                   ]  45/100 loss 0.5321 acc 0.812 318.4 img/s</pre>
 * On a terminal the line is redrawn in place ('\r') at most five times a second; into a file or a pipe
 * a line is printed at each tenth of the total instead, so logs stay readable. A quiet period keeps
 * quick runs silent. The total may grow while running ({@link #addTotal}): the bench suite learns some
 * counts only as it goes.
 */
public final class ProgressBar implements AutoCloseable {
    /** Quiet period of the bench suite: runs shorter than this print no bar at all. */
    public static final long TWO_SECONDS = 2_000_000_000L;
    private static final int WIDTH = 30;
    private static final long REDRAW_NANOS = 200_000_000L;

    private final PrintWriter out;
    private final String label;
    private final boolean redraw;
    private final long quietNanos;
    private final long start = System.nanoTime();
    private long total, done, lastDraw;
    private int lastTenth = -1;
    private String status = "";
    private boolean lineOpen;

    /**
     * @param label      text before the bar ("" for none)
     * @param total      units planned (more may be added)
     * @param redraw     redraw one line with '\r' (a terminal) or print a line per tenth (a log)
     * @param quietNanos nothing is printed before this much time has passed
     */
    public ProgressBar(PrintWriter out, String label, long total, boolean redraw, long quietNanos) {
        this.out = out;
        this.label = label;
        this.total = total;
        this.redraw = redraw;
        this.quietNanos = quietNanos;
    }

    /** Whether stderr is probably a terminal (a console is attached). */
    public static boolean terminalAttached() { return System.console() != null; }

    public synchronized void addTotal(long units) { total += units; }

    /** {@code units} more are done; {@code status} follows the counts. */
    public synchronized void advance(long units, String status) { update(done + units, status); }

    /** {@code units} more are done; the status is the rate since the start and the time left. */
    public synchronized void advanceWithRate(long units, String unit) {
        long now = System.nanoTime();
        double seconds = (now - start) / 1e9, rate = seconds > 0 ? (done + units) / seconds : 0;
        long left = total - done - units;
        String eta = rate > 0 && left > 0 ? String.format(Locale.ROOT, "  eta %.0f s", left / rate) : "";
        update(done + units, String.format(Locale.ROOT, "%.1f %s%s", rate, unit, eta));
    }

    /** {@code done} units are done in all. */
    public synchronized void update(long done, String status) {
        this.done = done;
        this.status = status;
        long now = System.nanoTime();
        if (now - start < quietNanos) return;
        if (redraw) {
            if (done < total && now - lastDraw < REDRAW_NANOS) return;
            lastDraw = now;
            String line = line();
            // pad so a shorter line covers the previous one
            out.print("\r" + (line.length() >= 100 ? line : String.format("%-100s", line)));
            out.flush();
            lineOpen = true;
        } else {
            int tenth = total <= 0 ? 0 : (int) (10 * Math.min(done, total) / total);
            if (tenth == lastTenth) return;
            lastTenth = tenth;
            out.println(line());
            out.flush();
        }
    }

    /** The line as drawn now, without '\r' or padding. */
    public synchronized String line() {
        int filled = total <= 0 ? 0 : (int) (WIDTH * Math.min(done, total) / total);
        StringBuilder bar = new StringBuilder(WIDTH);
        for (int i = 0; i < WIDTH; i++) bar.append(i < filled ? '=' : i == filled ? '>' : ' ');
        String counts = String.format(Locale.ROOT, "%" + Long.toString(Math.max(total, 1)).length() + "d/%d", done, total);
        return ((label.isEmpty() ? "" : label + " ") + "[" + bar + "] " + counts + " " + status).stripTrailing();
    }

    /** Ends the redrawn line (also on failure, so what follows starts on a line of its own). */
    @Override public synchronized void close() {
        if (!lineOpen) return;
        out.println();
        out.flush();
        lineOpen = false;
    }
}
