package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.train.KerasInit;
import io.jxception.model.XceptionGraph;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The training benchmark's op profile, run on the CPU backend (the device step runs it on CUDA). */
class CudaTrainingBenchmarkTest {
    @Test
    void profileReportsEveryKindOfOpOfATrainingStep() {
        CudaTrainingBenchmark.Config c = CudaTrainingBenchmark.Config.parse("71:2:0.0625");
        XceptionWeights w = KerasInit.fresh(XceptionGraph.build(c.xception()), 5);
        try (KernelBackend cpu = KernelBackend.cpu()) {
            String table = CudaTrainingBenchmark.profile(cpu, w, c, 1);
            for (String op : new String[]{"conv ", "convBackward", "batchNormTrain", "batchNormTrainBackward", "headTrain", "sgdUpdate", "total"}) {
                assertTrue(table.contains(op), op + " missing from\n" + table);
            }
            assertTrue(table.contains("convBackward SEPARABLE3X3_SAME"), "per-shape rows\n" + table);
        }
    }
}
