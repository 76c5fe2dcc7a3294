package io.jxception.cli;

import org.junit.jupiter.api.Test;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

class BenchCommandTest {
    private static final Pattern RESULT = Pattern.compile("result +([0-9]+(?:\\.[0-9]+)?) img/s median \\(min ([0-9.]+), max ([0-9.]+) img/s\\)");

    @Test
    void cpuBenchAt71PrintsImagesPerSecond() {
        Cli.Result r = Cli.run("bench", "--backend", "cpu", "--size", "71", "--batch", "1", "--warmup", "1", "--runs", "3");
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().startsWith("backend  cpu: "), r.toString());
        Matcher m = RESULT.matcher(r.out());
        assertTrue(m.find(), r.toString());
        double median = Double.parseDouble(m.group(1)), min = Double.parseDouble(m.group(2)), max = Double.parseDouble(m.group(3));
        assertTrue(median > 0 && Double.isFinite(median), r.toString());
        assertTrue(min <= median && median <= max, r.toString());
        assertTrue(r.out().contains("runs     3 x batch 1"), r.toString());
    }

    @Test
    void rejectsSizeBelow71AndEmptyBatch() {
        Cli.Result small = Cli.run("bench", "--backend", "cpu", "--size", "70");
        assertEquals(Failure.USAGE, small.exitCode(), small.toString());
        assertTrue(small.err().contains("--size must be at least 71"), small.toString());
        Cli.Result zero = Cli.run("bench", "--backend", "cpu", "--batch", "0");
        assertEquals(Failure.USAGE, zero.exitCode(), zero.toString());
        assertTrue(zero.err().contains("--batch must be at least 1"), zero.toString());
    }

    @Test
    void randomInputIsNeverAllZerosAndInRange() {
        float[] x = BenchCommand.randomInput(2, 71, 1).data();
        int zeros = 0;
        for (float v : x) {
            assertTrue(v >= -1 && v < 1, "value " + v);
            if (v == 0) zeros++;
        }
        assertTrue(zeros < 3, zeros + " zeros");
    }

    @Test
    void ratesKeepThreeSignificantDigitsWithoutExponent() {
        assertEquals("0.0812", BenchCommand.rate(0.08123));
        assertEquals("0.000123", BenchCommand.rate(0.0001234));
        assertEquals("8.12", BenchCommand.rate(8.1234));
        assertEquals("20123.5", BenchCommand.rate(20123.46));
    }
}
