package io.jxception.train;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * One epoch's progress on stderr: {@code epoch 3/10 [=======>      ] 45/100 loss 0.5321 acc 0.812 318.4 img/s}.
 * On a terminal the line is redrawn in place (carriage return); when stderr is a file or pipe a line is
 * printed at every tenth of the epoch instead, so logs stay readable.
 */
public final class ProgressBar {
    private static final int WIDTH = 30;
    private final PrintWriter out;
    private final boolean redraw;
    private final String label;
    private final int total;
    private int lastDecile = -1;

    public ProgressBar(PrintWriter out, boolean redraw, String label, int total) {
        this.out = out;
        this.redraw = redraw;
        this.label = label;
        this.total = Math.max(1, total);
    }

    /** Whether stderr is probably a terminal (a console is attached). */
    public static boolean terminalAttached() { return System.console() != null; }

    public void update(int done, double loss, double accuracy, double imagesPerSecond) {
        String line = line(done, loss, accuracy, imagesPerSecond);
        if (redraw) {
            out.print("\r" + line);
            out.flush();
        } else {
            int decile = done * 10 / total;
            if (decile != lastDecile) {
                lastDecile = decile;
                out.println(line);
                out.flush();
            }
        }
    }

    /** Ends the bar's line and prints the epoch summary. */
    public void finish(String summary) {
        if (redraw) out.println();
        out.println(summary);
        out.flush();
    }

    String line(int done, double loss, double accuracy, double imagesPerSecond) {
        int filled = (int) ((long) WIDTH * done / total);
        StringBuilder bar = new StringBuilder(WIDTH);
        for (int i = 0; i < WIDTH; i++) bar.append(i < filled ? '=' : i == filled ? '>' : ' ');
        return String.format(Locale.ROOT, "%s [%s] %d/%d loss %.4f acc %.3f %.1f img/s", label, bar, done, total, loss, accuracy, imagesPerSecond);
    }
}
