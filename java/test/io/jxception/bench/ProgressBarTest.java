package io.jxception.bench;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.*;

class ProgressBarTest {
    @Test
    void quickRunsPrintNothing() {
        StringWriter bytes = new StringWriter();
        try (ProgressBar bar = new ProgressBar(new PrintWriter(bytes))) {
            bar.addTotal(3);
            bar.advance(3, "done");
        }
        assertEquals("", bytes.toString());
    }

    @Test
    void longRunsRedrawOneLineAndEndIt() {
        StringWriter bytes = new StringWriter();
        try (ProgressBar bar = new ProgressBar(new PrintWriter(bytes), 0)) {
            bar.addTotal(4);
            bar.advance(1, "cpu fp32 batch 1: forward 1/4");
        }
        String s = bytes.toString();
        assertTrue(s.startsWith("\r["), s);
        assertTrue(s.contains(" 25% 0:00 cpu fp32 batch 1: forward 1/4"), s);
        assertTrue(s.endsWith(System.lineSeparator()), "the line is ended on close");
    }
}
