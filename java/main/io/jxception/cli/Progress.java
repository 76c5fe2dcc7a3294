package io.jxception.cli;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * A one-line progress bar on stderr for runs of several batches:
 * {@code [########------------]  40/100 images  12.3 img/s  eta 5 s}, redrawn at most 4 times a
 * second with '\r'. Silent when the whole run is one batch.
 */
final class Progress {
    private static final int WIDTH = 30;
    private static final long REDRAW_NANOS = 250_000_000L;

    private final PrintWriter err;
    private final long total;
    private final boolean enabled;
    private final long startNanos = System.nanoTime();
    private long done;
    private long lastDrawNanos;
    private boolean drawn;

    Progress(PrintWriter err, long totalImages, boolean enabled) {
        this.err = err;
        this.total = totalImages;
        this.enabled = enabled;
    }

    void advance(long images) {
        done += images;
        long now = System.nanoTime();
        if (enabled && (done == total || now - lastDrawNanos >= REDRAW_NANOS)) {
            lastDrawNanos = now;
            draw(now);
        }
    }

    /** Ends the line (also on failure, so an error message starts on a line of its own). */
    void finish() {
        if (drawn) {
            err.println();
            err.flush();
            drawn = false;
        }
    }

    private void draw(long now) {
        double seconds = (now - startNanos) / 1e9;
        double rate = seconds > 0 ? done / seconds : 0;
        int filled = (int) (WIDTH * done / Math.max(total, 1));
        String eta = rate > 0 && done < total ? String.format(Locale.ROOT, "  eta %.0f s", (total - done) / rate) : "";
        err.print(String.format(Locale.ROOT, "\r[%s%s] %" + Long.toString(total).length() + "d/%d images  %.1f img/s%s   ",
                "#".repeat(filled), "-".repeat(WIDTH - filled), done, total, rate, eta));
        err.flush();
        drawn = true;
    }
}
