package io.jxception.internal.backend.opencl;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Program builds while the JVM keeps raising SIGSEGV for safepoints (one thread calls System.gc() in a
 * loop, another spins in Java code that polls): before {@link CompilerSignalHandlers}, pocl's LLVM crash
 * handler deleted the compiler's temporary files under it and 99 of 100 such builds failed with
 * "unable to rename temporary" (measured with pocl 3.1); a rare collection in the test suite was enough
 * to lose one build in about one CI run in three. Every build here is one no cache has seen.
 */
class CompilerSignalHandlersTest {
    static volatile long sink;

    @Test
    void buildsSucceedWhileTheJvmCollectsGarbage() throws Exception {
        try (OpenClBackend backend = OpenClTestSupport.open()) {
            ClPrograms programs = backend.context().programs;
            AtomicBoolean stop = new AtomicBoolean();
            Thread collector = new Thread(() -> {
                while (!stop.get()) {
                    System.gc();
                    try {
                        Thread.sleep(1);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "gc-loop");
            Thread spinner = new Thread(() -> {
                long s = 1;
                while (!stop.get()) {
                    for (long i = 0; i < 1_000_000L; i++) s += i ^ s;
                    sink = s;
                }
            }, "spin-loop");
            collector.setDaemon(true);
            spinner.setDaemon(true);
            collector.start();
            spinner.start();
            List<String> failures = new ArrayList<>();
            int builds = 15;
            long run = System.nanoTime();
            try {
                for (int i = 0; i < builds; i++) {
                    // distinct source text and options: neither this process's binaries nor pocl's disk cache can answer
                    String source = "kernel void k(global float* x) { float v = x[get_global_id(0)]; for (int j = 0; j < N; j++) v = v * 1.0001f + sin(v); x[get_global_id(0)] = v + " + i + ".0f; }";
                    try {
                        long program = programs.programFromSource("signal-test-" + run + "-" + i, () -> source, "-DN=" + (i + 3));
                        assertTrue(program != 0);
                    } catch (IllegalStateException e) {
                        failures.add("build " + i + ": " + e.getMessage());
                    }
                }
            } finally {
                stop.set(true);
                collector.join();
                spinner.join();
            }
            assertEquals(List.of(), failures, builds + " builds under a garbage-collection loop");
            assertEquals(List.of(), CompilerSignalHandlers.restore(), "the JVM's signal handlers are in place after the builds");
        }
    }
}
