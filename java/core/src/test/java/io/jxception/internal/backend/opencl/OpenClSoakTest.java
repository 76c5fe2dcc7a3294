package io.jxception.internal.backend.opencl;

import io.jxception.exec.ConcurrencyStress;
import io.jxception.exec.InferenceSession;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A long run on one OpenCL backend, as a service lives: many inferences on one session, then many
 * sessions opened and closed, fresh random input each time. Afterwards the OpenCL objects and the
 * device memory are back at the baseline exactly, and the process's native memory (resident set
 * less the Java heap) within {@link #NATIVE_GROWTH_LIMIT_MIB}; a fixed input gives the same output
 * bits all along. CI runs 1,000 inferences and 20 sessions on a small network; the full soak
 * (README, "Reliability"):
 * {@code mvn -B -o -pl java/core test -Dtest=OpenClSoakTest -Djxception.soak.inferences=10000 -Djxception.soak.sessions=100}
 */
class OpenClSoakTest {
    /**
     * Resident memory moves by tens of MiB with the C allocator's arenas, the JIT and the heap that
     * G1 gives back after a GC (measured right after the GC: up to +105 MiB, gone 1.5 s later);
     * OpenCL objects and device bytes are exact. A leak of a session's buffers per cycle or
     * 10 KiB per inference exceeds this at the full count.
     */
    static final long NATIVE_GROWTH_LIMIT_MIB = 64;
    static final int WARM_UP_INFERENCES = 300;

    @Test
    void inferencesAndSessionCyclesReturnToTheBaseline() throws IOException {
        int inferences = Integer.getInteger("jxception.soak.inferences", 1000);
        int sessions = Integer.getInteger("jxception.soak.sessions", 20);
        long seed = new Random().nextLong();
        Random rnd = new Random(seed);
        XceptionWeights w = ConcurrencyStress.smallNetwork(rnd.nextLong());
        Tensor fixed = ConcurrencyStress.mixedBatches(rnd, 1, 1).get(0);
        try (OpenClBackend cl = OpenClTestSupport.open()) {
            float[] want;
            try (InferenceSession warm = new InferenceSession(cl, w, 3)) {
                // every batch size of the soak once: its kernels are built and cached, the scratch grown, pools and JIT warmed
                want = warm.run(fixed).data();
                for (int n = 1; n <= 3; n++) warm.run(batchOf(rnd, n));
                // and enough runs for the C allocator's arenas (our staging buffers, pocl's threads) to reach their working size
                for (int i = 0; i < WARM_UP_INFERENCES; i++) warm.run(ConcurrencyStress.mixedBatches(rnd, 1, 3).get(0));
            }
            Memory base = Memory.now(cl);
            long t0 = System.nanoTime();
            try (InferenceSession s = new InferenceSession(cl, w, 2)) {
                for (int i = 0; i < inferences; i++) {
                    Tensor in = i % 100 == 0 ? fixed : ConcurrencyStress.mixedBatches(rnd, 1, 2).get(0);
                    float[] out = s.run(in).data();
                    if (in == fixed) assertArrayEquals(want, out, "inference " + i + ": same input, other output bits (seed " + seed + ")");
                }
            }
            double inferSeconds = (System.nanoTime() - t0) / 1e9;
            Memory afterInferences = Memory.now(cl);
            for (int c = 0; c < sessions; c++) {
                try (InferenceSession s = new InferenceSession(cl, w, 1 + c % 3)) {
                    for (Tensor t : ConcurrencyStress.mixedBatches(rnd, 3, 1 + c % 3)) s.run(t);
                    assertArrayEquals(want, s.run(fixed).data(), "session " + c);
                }
            }
            Memory end = Memory.now(cl);
            System.out.printf(Locale.ROOT, "soak on %s: %d inferences in %.1f s (%.1f/s), %d sessions; native memory %d -> %d -> %d MiB,"
                            + " OpenCL objects %d -> %d -> %d, device bytes %d -> %d -> %d%n", cl.name(), inferences, inferSeconds, inferences / inferSeconds,
                    sessions, base.nativeMib(), afterInferences.nativeMib(), end.nativeMib(), base.clObjects, afterInferences.clObjects, end.clObjects,
                    base.deviceBytes, afterInferences.deviceBytes, end.deviceBytes);
            for (Memory m : List.of(afterInferences, end)) {
                assertEquals(base.clObjects, m.clObjects, "OpenCL objects not released");
                assertEquals(base.deviceBytes, m.deviceBytes, "device memory not released");
                assertTrue(m.nativeMib() - base.nativeMib() <= NATIVE_GROWTH_LIMIT_MIB,
                        "native memory grew from " + base.nativeMib() + " to " + m.nativeMib() + " MiB");
            }
        }
    }

    private static Tensor batchOf(Random rnd, int n) {
        Tensor t;
        do t = ConcurrencyStress.mixedBatches(rnd, 1, 3).get(0); while (t.shape().dim(0) != n);
        return t;
    }

    /** What is measured: native memory (resident set less the committed Java heap, after a GC), live OpenCL objects, device bytes. */
    record Memory(long residentKib, long heapKib, long clObjects, long deviceBytes) {
        static Memory now(OpenClBackend cl) throws IOException {
            for (int i = 0; i < 3; i++) System.gc();
            try {
                Thread.sleep(1500); // G1 gives uncommitted heap back to the OS after the GC, on its own thread: let RSS follow
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            long rss = -1;
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) rss = Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
            assertTrue(rss > 0, "no VmRSS in /proc/self/status");
            return new Memory(rss, Runtime.getRuntime().totalMemory() >> 10, ClObjects.live(), cl.allocatedBytes());
        }

        long nativeMib() { return (residentKib - heapKib) >> 10; }
    }

}
