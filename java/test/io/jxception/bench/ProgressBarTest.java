package io.jxception.bench;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;

import static org.junit.jupiter.api.Assertions.*;

class ProgressBarTest {
    @Test
    void quickRunsPrintNothing() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ProgressBar bar = new ProgressBar(new PrintStream(bytes))) {
            bar.addTotal(3);
            bar.advance(3, "done");
        }
        assertEquals("", bytes.toString());
    }

    @Test
    void longRunsRedrawOneLineAndEndIt() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ProgressBar bar = new ProgressBar(new PrintStream(bytes), 0)) {
            bar.addTotal(4);
            bar.advance(1, "cpu fp32 batch 1: forward 1/4");
        }
        String s = bytes.toString();
        assertTrue(s.startsWith("\r["), s);
        assertTrue(s.contains(" 25% 0:00 cpu fp32 batch 1: forward 1/4"), s);
        assertTrue(s.endsWith(System.lineSeparator()), "the line is ended on close");
    }
}
