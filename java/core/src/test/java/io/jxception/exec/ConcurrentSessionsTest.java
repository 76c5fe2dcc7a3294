package io.jxception.exec;

import io.jxception.backend.Backend;
import io.jxception.backend.Backends;
import io.jxception.backend.Precision;
import io.jxception.internal.backend.BackendProvider;
import io.jxception.internal.backend.BackendProviders;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Sessions on one backend from several threads at once (cpu, and OpenCL through pocl in CI): every
 * output bitwise equal to a single-threaded run; one session shared by two threads is refused,
 * never a wrong output or a crash.
 */
class ConcurrentSessionsTest {
    private static Backend open(String kind) {
        if (!kind.equals("cpu")) {
            BackendProvider p = BackendProviders.all().stream().filter(x -> x.kind().equals(kind)).findFirst().orElseThrow();
            if (!p.probe().available()) {
                assertNotEquals("true", System.getenv("CI"), "CI=true but " + kind + " is unavailable: " + p.probe().reason());
                Assumptions.abort(kind + " unavailable: " + p.probe().reason());
            }
        }
        return Backends.open(kind.equals("cpu") ? "cpu" : kind + ":0", Precision.FP32);
    }

    private static void fourSessions(String kind) throws Exception {
        long seed = new Random().nextLong();
        Random rnd = new Random(seed);
        XceptionWeights w = ConcurrencyStress.smallNetwork(rnd.nextLong());
        List<Tensor> batches = ConcurrencyStress.mixedBatches(rnd, 8, 3);
        try (Backend b = open(kind)) {
            ConcurrencyStress.sessionsPerThreadMatchOneThread(b, w, batches, 4, 2, seed);
        }
    }

    private static void sharedSession(String kind) throws Exception {
        long seed = new Random().nextLong();
        Random rnd = new Random(seed);
        XceptionWeights w = ConcurrencyStress.smallNetwork(rnd.nextLong());
        List<Tensor> batches = ConcurrencyStress.mixedBatches(rnd, 4, 2);
        try (Backend b = open(kind)) {
            ConcurrencyStress.oneSessionTwoThreadsIsRefusedNeverWrong(b, w, batches, 20, seed);
        }
    }

    @Test
    void fourThreadsWithASessionEachOnCpuMatchOneThreadBitwise() throws Exception { fourSessions("cpu"); }

    @Test
    void fourThreadsWithASessionEachOnOpenClMatchOneThreadBitwise() throws Exception { fourSessions("opencl"); }

    @Test
    void oneCpuSessionUsedByTwoThreadsIsRefusedNeverWrong() throws Exception { sharedSession("cpu"); }

    @Test
    void oneOpenClSessionUsedByTwoThreadsIsRefusedNeverWrong() throws Exception { sharedSession("opencl"); }
}
