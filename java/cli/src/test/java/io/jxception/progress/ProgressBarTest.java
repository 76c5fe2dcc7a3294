package io.jxception.progress;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.*;

class ProgressBarTest {
    @Test
    void quickRunsPrintNothing() {
        StringWriter text = new StringWriter();
        try (ProgressBar bar = new ProgressBar(new PrintWriter(text), "", 0, true, ProgressBar.TWO_SECONDS)) {
            bar.addTotal(3);
            bar.advance(3, "done");
        }
        assertEquals("", text.toString());
    }

    @Test
    void onATerminalOneLineIsRedrawnAndEndedOnClose() {
        StringWriter text = new StringWriter();
        try (ProgressBar bar = new ProgressBar(new PrintWriter(text), "", 0, true, 0)) {
            bar.addTotal(4);
            bar.advance(1, "cpu fp32 batch 1: forward 1/4");
            bar.advance(3, "done");   // the last unit is always drawn
        }
        String s = text.toString();
        assertTrue(s.startsWith("\r[=======>"), s);
        assertTrue(s.contains("] 1/4 cpu fp32 batch 1: forward 1/4"), s);
        assertTrue(s.contains("\r[==============================] 4/4 done"), s);
        assertTrue(s.endsWith(System.lineSeparator()), "the line is ended on close");
        assertEquals(1, s.split("\n", -1).length - 1, "one line in all");
    }

    @Test
    void intoALogALineIsPrintedAtEachTenth() {   // 0/10 .. 10/10: eleven lines for twenty updates
        StringWriter text = new StringWriter();
        try (ProgressBar bar = new ProgressBar(new PrintWriter(text, true), "epoch 1/2", 20, false, 0)) {
            for (int i = 1; i <= 20; i++) bar.update(i, String.format(java.util.Locale.ROOT, "loss %.4f", 1.0 / i));
        }
        String[] lines = text.toString().split("\n");
        assertEquals(11, lines.length, String.join("\n", lines));
        assertEquals("epoch 1/2 [==============================] 20/20 loss 0.0500", lines[10]);
        assertFalse(text.toString().contains("\r"));
    }

    @Test
    void theRateStatusCountsUnitsOverTime() throws InterruptedException {
        StringWriter text = new StringWriter();
        try (ProgressBar bar = new ProgressBar(new PrintWriter(text), "", 100, true, 0)) {
            Thread.sleep(50);
            bar.advanceWithRate(10, "img/s");
            String line = bar.line();
            assertTrue(line.matches(".*\\] +10/100 [0-9.]+ img/s  eta [0-9]+ s"), line);
            double rate = Double.parseDouble(line.replaceAll(".*\\] +10/100 ([0-9.]+) img/s.*", "$1"));
            assertTrue(rate > 0 && rate <= 10 / 0.05, "rate " + rate);
        }
    }
}
