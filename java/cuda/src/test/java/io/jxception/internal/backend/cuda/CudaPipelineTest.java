package io.jxception.internal.backend.cuda;

import io.jxception.internal.exec.ForwardSession;
import io.jxception.backend.Precision;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * CUDA graph replay inside ForwardSession and the copy-stream pipeline (runAll) against eager,
 * synchronous runs of the same kernels: same kernels, same inputs, so the outputs must be equal bit
 * for bit; any race between the copy stream and the compute stream shows up as a difference.
 */
@Tag("gpu")
class CudaPipelineTest {
    @BeforeAll
    static void requireDevice() { CudaTestDevice.assumeAvailable(); }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Precision.class, names = {"FP32", "BF16"})
    void pipelinedAndReplayedOutputsEqualEagerRunsBitForBit(Precision p) {
        XceptionWeights w = XceptionWeights.random(XceptionGraph.build(XceptionConfig.tiny(99, 10)), new Random().nextLong());
        Random rnd = new Random();
        int[] sizes = {4, 4, 1, 4, 3, 4, 4, 2, 4};
        List<Tensor> batches = new ArrayList<>();
        for (int n : sizes) batches.add(CudaNetworkTest.randomImages(Shape.of(n, 99, 99, 3), rnd.nextLong()));
        List<float[]> eager = new ArrayList<>();
        try (CudaBackend cuda = (CudaBackend) new CudaBackendProvider().open(0, p)) {
            try (ForwardSession s = new ForwardSession(cuda, w, 4, false)) {
                assertFalse(s.replaysLaunches());
                for (Tensor b : batches) eager.add(s.run(b).data());
            }
            try (ForwardSession s = new ForwardSession(cuda, w, 4)) {
                assertTrue(s.replaysLaunches());
                for (int i = 0; i < batches.size(); i++) assertArrayEquals(eager.get(i), s.run(batches.get(i)).data(), "replayed run " + i);
                float[][] got = new float[batches.size()][];
                for (int rep = 0; rep < 2; rep++) {   // the 2nd pass replays the recordings of both input buffers
                    java.util.Arrays.fill(got, null);
                    assertEquals(batches.size(), s.runAll(batches.iterator(), (i, y) -> got[i] = y.data()));
                    for (int i = 0; i < batches.size(); i++) assertArrayEquals(eager.get(i), got[i], "pass " + rep + ", pipelined batch " + i);
                }
            }
        }
    }

    /**
     * A graph recorded at a small batch replays the scratch addresses it captured; a larger batch run
     * eagerly afterwards grows the scratch. The old block must outlive the graph, or the replay reads
     * and writes freed memory (a wrong or crashing result, never a clean error).
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Precision.class, names = {"BF16", "FP16"})   // 16-bit runs convert the input into scratch
    void aGraphRecordedBeforeTheScratchGrewStillReplaysCorrectly(Precision p) {
        XceptionWeights w = XceptionWeights.random(XceptionGraph.build(XceptionConfig.tiny(99, 10)), new Random().nextLong());
        Random rnd = new Random();
        Tensor small = CudaNetworkTest.randomImages(Shape.of(1, 99, 99, 3), rnd.nextLong());
        Tensor large = CudaNetworkTest.randomImages(Shape.of(8, 99, 99, 3), rnd.nextLong());
        try (CudaBackend cuda = (CudaBackend) new CudaBackendProvider().open(0, p);
             ForwardSession s = new ForwardSession(cuda, w, 8)) {
            float[] first = s.run(small).data();
            assertArrayEquals(first, s.run(small).data(), "recorded run");
            long before = cuda.scratchBytes();
            assertTrue(before > 0, "a 16-bit run converts its input in scratch");
            float[] big = s.run(large).data();
            assertTrue(cuda.scratchBytes() > before, "the batch of 8 should need more scratch (" + before + " -> " + cuda.scratchBytes() + ")");
            // the driver tends to hand a freed block's address to the next allocation of its size: if the
            // old scratch had been freed, this buffer would sit where the recorded graph writes
            int count = (int) Math.min(before / 2, 1 << 24);   // 16-bit storage: about the old block's size
            try (io.jxception.internal.backend.Buffer bystander = cuda.allocate(count)) {
                float[] nan = new float[count];
                java.util.Arrays.fill(nan, Float.NaN);
                cuda.upload(nan, 0, bystander, 0, count);
                assertArrayEquals(first, s.run(small).data(), "replay after the scratch grew");
                float[] back = new float[count];
                cuda.download(bystander, 0, back, 0, count);
                for (int i = 0; i < back.length; i++) assertTrue(Float.isNaN(back[i]), "the replay wrote into another buffer at element " + i);
            }
            assertArrayEquals(big, s.run(large).data(), "the batch of 8 again (recorded now)");
            assertArrayEquals(big, s.run(large).data(), "the batch of 8 replayed");
        }
    }

    @Test
    void aSessionTakesItsWorkingSetAsOneAllocation() {
        XceptionWeights w = XceptionWeights.random(XceptionGraph.build(XceptionConfig.tiny(71, 10)), 3);
        try (CudaBackend cuda = (CudaBackend) new CudaBackendProvider().open(0, Precision.FP32)) {
            int before = cuda.liveAllocations();
            try (ForwardSession s = new ForwardSession(cuda, w, 2)) {
                assertEquals(before + 1, cuda.liveAllocations(), "weights and activation slots in one block");
                Tensor x = CudaNetworkTest.randomImages(Shape.of(2, 71, 71, 3), 4);
                assertEquals(2 * 10, s.run(x).size());
            }
            assertEquals(before, cuda.liveAllocations());
        }
    }

    @Test
    void manyPipelinedBatchesLeaveDeviceMemoryWhereItStarted() {
        XceptionWeights w = XceptionWeights.random(XceptionGraph.build(XceptionConfig.tiny(71, 10)), 5);
        try (CudaBackend cuda = (CudaBackend) new CudaBackendProvider().open(0, Precision.BF16)) {
            Tensor x = CudaNetworkTest.randomImages(Shape.of(2, 71, 71, 3), 9);
            long before = -1;
            for (int round = 0; round < 3; round++) {
                try (ForwardSession s = new ForwardSession(cuda, w, 2)) {
                    List<Tensor> many = new ArrayList<>();
                    for (int i = 0; i < 100; i++) many.add(x);
                    assertEquals(100, s.runAll(many.iterator(), (i, y) -> { }));
                }
                cuda.synchronize();
                long free = cuda.memoryInfo()[0];
                if (round == 0) before = free;   // after the first round: the copy stream and pinned buffers exist
                else assertTrue(Math.abs(free - before) <= (4L << 20), "free device memory moved from " + before + " to " + free);
            }
        }
    }
}
