package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.train.KerasInit;
import io.jxception.model.XceptionGraph;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The training benchmark's timing loop and op profile, run on the CPU backend (the device step runs them on CUDA). */
class CudaTrainingBenchmarkTest {
    @Test
    void timesStepsAndProfilesEveryKindOfOp() {
        CudaTrainingBenchmark.Config c = CudaTrainingBenchmark.Config.parse("71:2:0.0625");
        XceptionWeights w = KerasInit.fresh(XceptionGraph.build(c.xception()), 5);
        try (KernelBackend cpu = KernelBackend.cpu()) {
            String table = CudaTrainingBenchmark.profile(cpu, w, c, 1);
            for (String op : new String[]{"conv ", "convBackward", "batchNormTrain", "batchNormTrainBackward", "headTrain", "sgdUpdate", "total"}) {
                assertTrue(table.contains(op), op + " missing from\n" + table);
            }
            assertTrue(table.contains("convBackward SEPARABLE3X3_SAME"), "per-shape rows\n" + table);
            CudaTrainingBenchmark.Result r = CudaTrainingBenchmark.run(cpu, w, c, 1, 2, 10, true, 3);
            assertTrue(r.timedSteps() == 2 && r.medianStepMs() > 0 && r.imagesPerSecond() > 0, r.toString());
            assertTrue(r.sessionMiB() == -1, "the CPU backend reports no device memory");
            assertTrue(r.replayedLaunches() == -1, "the CPU backend cannot record: every step eager");
            assertTrue(r.pipelinedStepMs() > 0, "6 steps with the loss read every 3: " + r);
            assertTrue(CudaTrainingBenchmark.run(cpu, w, c, 1, 2, 10, true, 0).pipelinedStepMs() == -1, "off by default");
        }
    }
}
