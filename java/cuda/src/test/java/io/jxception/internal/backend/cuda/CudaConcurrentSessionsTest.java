package io.jxception.internal.backend.cuda;

import io.jxception.backend.Precision;
import io.jxception.exec.ConcurrencyStress;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Random;

/**
 * The service case on a GPU (gpu step only): four threads with a session each on one CUDA backend,
 * every output bitwise equal to one thread's (CUDA graphs recorded and replayed per session); one
 * session shared by two threads is refused, never a wrong output.
 */
@Tag("gpu")
class CudaConcurrentSessionsTest {
    @BeforeAll
    static void requireDevice() { CudaTestDevice.assumeAvailable(); }

    @ParameterizedTest
    @EnumSource(value = Precision.class, names = {"FP32", "BF16"})
    void fourThreadsWithASessionEachMatchOneThreadBitwise(Precision p) throws Exception {
        long seed = new Random().nextLong();
        Random rnd = new Random(seed);
        XceptionWeights w = ConcurrencyStress.smallNetwork(rnd.nextLong());
        List<Tensor> batches = ConcurrencyStress.mixedBatches(rnd, 8, 3);
        try (CudaBackend cuda = CudaNetworkTest.open(p)) {
            ConcurrencyStress.sessionsPerThreadMatchOneThread(cuda, w, batches, 4, 3, seed);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Precision.class, names = {"FP32"})
    void oneSessionUsedByTwoThreadsIsRefusedNeverWrong(Precision p) throws Exception {
        long seed = new Random().nextLong();
        Random rnd = new Random(seed);
        XceptionWeights w = ConcurrencyStress.smallNetwork(rnd.nextLong());
        try (CudaBackend cuda = CudaNetworkTest.open(p)) {
            ConcurrencyStress.oneSessionTwoThreadsIsRefusedNeverWrong(cuda, w, ConcurrencyStress.mixedBatches(rnd, 4, 2), 40, seed);
        }
    }
}
