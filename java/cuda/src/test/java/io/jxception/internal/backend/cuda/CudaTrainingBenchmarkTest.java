package io.jxception.internal.backend.cuda;

import io.jxception.backend.Precision;
import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.exec.OpProfile;
import io.jxception.internal.train.KerasInit;
import io.jxception.model.XceptionGraph;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The training benchmark's timing loop and op profile, run on the CPU backend (the device step runs them on CUDA). */
class CudaTrainingBenchmarkTest {
    @Test
    void timesStepsAndProfilesEveryKindOfOp() {
        CudaTrainingBenchmark.Config c = CudaTrainingBenchmark.Config.parse("71:2:0.0625");
        XceptionWeights w = KerasInit.fresh(XceptionGraph.build(c.xception()), 5);
        try (KernelBackend cpu = KernelBackend.cpu()) {
            String table = CudaTrainingBenchmark.profile(cpu, w, c, 1, CudaTrainingBenchmark.datasheetPeaks("NVIDIA H200 (sm_90, 132 SMs)", Precision.BF16));
            for (String op : new String[]{"conv ", "convBackward", "batchNormTrain", "batchNormTrainBackward", "headTrain", "sgdUpdate", "total"}) {
                assertTrue(table.contains(op), op + " missing from\n" + table);
            }
            assertTrue(table.contains("convBackward SEPARABLE3X3_SAME"), "per-shape rows\n" + table);
            assertTrue(table.contains("floor ms") && table.contains("4.80 TB/s and 989 TFLOP/s (datasheet, NVIDIA H200 BF16)"), "floors at the H200's rates\n" + table);
            CudaTrainingBenchmark.Result r = CudaTrainingBenchmark.run(cpu, w, c, 1, 2, 10, true, 3);
            assertTrue(r.timedSteps() == 2 && r.medianStepMs() > 0 && r.imagesPerSecond() > 0, r.toString());
            assertTrue(r.sessionMiB() == -1, "the CPU backend reports no device memory");
            assertTrue(r.replayedLaunches() == -1, "the CPU backend cannot record: every step eager");
            assertTrue(r.pipelinedStepMs() > 0, "6 steps with the loss read every 3: " + r);
            assertTrue(CudaTrainingBenchmark.run(cpu, w, c, 1, 2, 10, true, 0).pipelinedStepMs() == -1, "off by default");
        }
    }

    @Test
    void datasheetPeaksByCardAndPrecision() {
        OpProfile.Peaks h100 = CudaTrainingBenchmark.datasheetPeaks("NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, 79.2 GiB)", Precision.TF32);
        assertEquals(3.35e12, h100.bytesPerSecond(), 1);
        assertEquals(494.7e12, h100.flopsPerSecond(), 1);
        assertEquals(66.9e12, CudaTrainingBenchmark.datasheetPeaks("NVIDIA H200", Precision.FP32).flopsPerSecond(), 1);
        assertEquals(312e12, CudaTrainingBenchmark.datasheetPeaks("NVIDIA A100-SXM4-80GB", Precision.FP16).flopsPerSecond(), 1);
        assertNull(CudaTrainingBenchmark.datasheetPeaks("NVIDIA H100 PCIe", Precision.BF16), "another memory system: no guess");
        assertNull(CudaTrainingBenchmark.datasheetPeaks("NVIDIA GeForce RTX 4090", Precision.BF16));
    }
}
