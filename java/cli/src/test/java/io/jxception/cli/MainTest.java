package io.jxception.cli;

import io.jxception.backend.Backends;
import io.jxception.backend.Probe;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class MainTest {
    @Test
    void noCommandIsAUsageError() {
        Cli.Result r = Cli.run();
        assertEquals(Failure.USAGE, r.exitCode(), r.toString());
        assertTrue(r.err().startsWith("jxception: error: missing command"), r.toString());
    }

    @Test
    void unknownOptionIsOneErrorLineAndExit2() {
        Cli.Result r = Cli.run("bench", "--bogus");
        assertEquals(Failure.USAGE, r.exitCode(), r.toString());
        assertEquals(1, r.err().lines().count(), r.toString());
        assertTrue(r.err().startsWith("jxception: error: Unknown option: '--bogus'"), r.toString());
    }

    @Test
    void unknownBackendNameIsAUsageError() {
        Cli.Result r = Cli.run("bench", "--backend", "tpu");
        assertEquals(Failure.USAGE, r.exitCode(), r.toString());
        assertTrue(r.err().contains("unknown backend 'tpu': expected auto, cpu, opencl[:i] or cuda[:i]"), r.toString());
    }

    @Test
    void unknownPrecisionIsAUsageError() {
        Cli.Result r = Cli.run("bench", "--precision", "fp8");
        assertEquals(Failure.USAGE, r.exitCode(), r.toString());
        assertTrue(r.err().contains("unknown precision 'fp8'"), r.toString());
    }

    @Test
    void missingDeviceIndexIsAUsageError() {
        Cli.Result r = Cli.run("bench", "--backend", "cpu:7", "--size", "71");
        assertEquals(Failure.USAGE, r.exitCode(), r.toString());
        assertTrue(r.err().contains("no cpu device 7"), r.toString());
    }

    @Test
    void verboseAddsTheStackTraceAnywhereOnTheLine() {
        Cli.Result quiet = Cli.run("bench", "--backend", "cpu:7");
        assertFalse(quiet.err().contains("\tat "), quiet.toString());
        for (String[] args : new String[][]{{"--verbose", "bench", "--backend", "cpu:7"}, {"bench", "--backend", "cpu:7", "--verbose"}}) {
            Cli.Result loud = Cli.run(args);
            assertEquals(Failure.USAGE, loud.exitCode(), loud.toString());
            assertTrue(loud.err().startsWith("jxception: error: no cpu device 7"), loud.toString());
            assertTrue(loud.err().contains("\tat "), loud.toString());
        }
    }

    @Test
    void versionAndHelpExitZero() {
        Cli.Result v = Cli.run("--version");
        assertEquals(0, v.exitCode());
        assertTrue(v.out().startsWith("jxception "), v.toString());
        Cli.Result h = Cli.run("--help");
        assertEquals(0, h.exitCode());
        for (String c : new String[]{"info", "infer", "classify", "bench"}) assertTrue(h.out().contains(c), h.toString());
    }

    @Test
    void unavailableBackendSaysWhyAndExits1() {
        // on a machine without a GPU this is cuda; skipped only where every backend kind runs
        Optional<Probe> missing = Backends.probeAll().stream().filter(p -> !p.available()).findFirst();
        assumeTrue(missing.isPresent(), "every backend kind is available here");
        Probe p = missing.get();
        Cli.Result r = Cli.run("bench", "--backend", p.kind(), "--size", "71");
        assertEquals(Failure.RUNTIME, r.exitCode(), r.toString());
        assertEquals("jxception: error: " + Backends.unavailableMessage(p) + "\n", r.err(), r.toString());
        assertEquals("", r.out(), r.toString());
    }

    @Test
    void verboseRuntimeErrorAddsTheStackTrace() {
        Cli.Result r = Cli.run("--verbose", "infer", "--weights", "w.h5", "--input", "no-such-input.npy", "--output", "y.npy");
        assertEquals(Failure.RUNTIME, r.exitCode(), r.toString());
        assertTrue(r.err().startsWith("jxception: error: input file not found: no-such-input.npy\n"), r.toString());
        assertTrue(r.err().contains("\tat io.jxception.cli.InferCommand"), r.toString());
    }
}
