package io.jxception.internal.backend.cuda;

import io.jxception.backend.Precision;
import io.jxception.exec.ConcurrencyStress;
import io.jxception.exec.InferenceSession;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Locale;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The soak of OpenClSoakTest on a GPU (gpu step): 10,000 inferences on one session (CUDA graphs
 * replayed) and 100 sessions opened and closed; the device's free memory back at the baseline
 * within 16 MiB and a fixed input's output bits unchanged throughout. Counts from
 * -Djxception.soak.inferences / -Djxception.soak.sessions.
 */
@Tag("gpu")
class CudaSoakTest {
    static final long DEVICE_TOLERANCE_BYTES = 16L << 20;

    @BeforeAll
    static void requireDevice() { CudaTestDevice.assumeAvailable(); }

    @Test
    void inferencesAndSessionCyclesReturnToTheBaseline() {
        int inferences = Integer.getInteger("jxception.soak.inferences", 10_000);
        int sessions = Integer.getInteger("jxception.soak.sessions", 100);
        long seed = new Random().nextLong();
        Random rnd = new Random(seed);
        XceptionWeights w = ConcurrencyStress.smallNetwork(rnd.nextLong());
        Tensor fixed = ConcurrencyStress.mixedBatches(rnd, 1, 1).get(0);
        try (CudaBackend cuda = CudaNetworkTest.open(Precision.FP32)) {
            float[] want;
            try (InferenceSession warm = new InferenceSession(cuda, w, 2)) {
                want = warm.run(fixed).data();
                for (Tensor t : ConcurrencyStress.mixedBatches(rnd, 20, 2)) warm.run(t);
            }
            long freeBefore = cuda.memoryInfo()[0];
            try (InferenceSession s = new InferenceSession(cuda, w, 2)) {
                for (int i = 0; i < inferences; i++) {
                    Tensor in = i % 100 == 0 ? fixed : ConcurrencyStress.mixedBatches(rnd, 1, 2).get(0);
                    float[] out = s.run(in).data();
                    if (in == fixed) assertArrayEquals(want, out, "inference " + i + " (seed " + seed + ")");
                }
            }
            long freeMiddle = cuda.memoryInfo()[0];
            for (int c = 0; c < sessions; c++) {
                try (InferenceSession s = new InferenceSession(cuda, w, 1 + c % 3)) {
                    for (Tensor t : ConcurrencyStress.mixedBatches(rnd, 3, 1 + c % 3)) s.run(t);
                    assertArrayEquals(want, s.run(fixed).data(), "session " + c);
                }
            }
            long freeAfter = cuda.memoryInfo()[0];
            System.out.printf(Locale.ROOT, "cuda soak: %d inferences, %d sessions; device free memory %d -> %d -> %d MiB%n",
                    inferences, sessions, freeBefore >> 20, freeMiddle >> 20, freeAfter >> 20);
            assertTrue(freeBefore - freeMiddle <= DEVICE_TOLERANCE_BYTES, "device memory lost over the inferences: " + (freeBefore - freeMiddle) + " bytes");
            assertTrue(freeBefore - freeAfter <= DEVICE_TOLERANCE_BYTES, "device memory lost over the sessions: " + (freeBefore - freeAfter) + " bytes");
        }
    }
}
