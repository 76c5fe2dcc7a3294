package io.jxception.train;

import io.jxception.internal.exec.ForwardSession;
import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.train.Batch;
import io.jxception.internal.train.BatchLoader;
import io.jxception.internal.train.Checkpoint;
import io.jxception.internal.train.ImageFolder;
import io.jxception.backend.Backends;
import io.jxception.backend.Precision;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Tensor;
import io.jxception.weights.WeightsFiles;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class TrainerConvergenceTest {
    /**
     * XceptionConfig.tiny(71, 10) (width 1/16, all 8 middle blocks, 103k parameters) from Keras'
     * initializers learns the 600-image MNIST fixture: 6 epochs of batch 8 (450 steps), SGD momentum
     * 0.9, cosine from 0.05 after 20 warm-up steps. Measured validation accuracy (chance 0.10): 0.955
     * on the CPU reference (about 45 s on 2 shared cores), 0.915 on pocl. Batch 8 rather than 16 gives
     * the moving statistics twice the updates to catch up with the weights, which is what inference-mode
     * validation depends on (at batch 16 pocl's run ended at 0.805).
     */
    @Test
    void tinyXceptionLearnsMnistDigitsOnTheCpuReference(@TempDir Path out) throws IOException {
        learnsMnist("cpu", out);
    }

    /** The same run on OpenCL (pocl on CI), about 3× faster than the reference there; skipped without an OpenCL device. */
    @Test
    void tinyXceptionLearnsMnistDigitsOnOpenCl(@TempDir Path out) throws IOException {
        Assumptions.assumeTrue(Runs.otherAvailableBackends().contains("opencl"), "no OpenCL device here");
        learnsMnist("opencl", out);
    }

    private static void learnsMnist(String backend, Path out) throws IOException {
        TrainOptions o = TrainOptions.builder(Runs.MNIST_TRAIN, out).validationData(Runs.MNIST_VAL)
                .inputSize(71).widthMultiplier(1.0 / 16).middleRepeats(8).batchSize(8).epochs(6)
                .learningRate(new LearningRateSchedule.Cosine(0.05, 0, 20)).checkpointEvery(50).build();
        StringBuilder log = new StringBuilder();
        Trainer.Result r = Runs.train(backend, o, log);
        assertTrue(r.complete(), log.toString());
        assertEquals(6 * 75, r.steps());
        List<EpochRecord> h = r.history();
        assertEquals(6, h.size());
        EpochRecord first = h.get(0), last = h.get(5);
        System.out.println(backend + " MNIST run:\n" + EpochRecord.csv(h));
        assertTrue(last.valAccuracy() >= 0.8, "validation accuracy " + last.valAccuracy() + " after 6 epochs (chance 0.1)\n" + log);
        assertTrue(last.trainLoss() < first.trainLoss() / 4, "training loss " + first.trainLoss() + " -> " + last.trainLoss());
        assertTrue(last.valLoss() < 1.0, "validation loss " + last.valLoss());

        // the outputs: log, final weights and the final checkpoint (the CLI adds the curves: TrainCommandTest)
        List<EpochRecord> csv = EpochRecord.parseCsvTable(Files.readString(out.resolve(Trainer.LOG)));
        assertEquals(6, csv.size());
        assertEquals(last.valAccuracy(), csv.get(5).valAccuracy(), 1e-6);
        XceptionGraph graph = XceptionGraph.build(r.weights().graph().config());
        XceptionWeights saved = WeightsFiles.load(out.resolve(Trainer.WEIGHTS), graph);
        Runs.assertBitwiseEqual(r.weights(), saved);
        Checkpoint ckpt = Checkpoint.read(out.resolve(Trainer.CHECKPOINT), graph);
        assertEquals(6, ckpt.state().epoch());
        assertEquals(r.steps(), ckpt.state().step());
        Runs.assertBitwiseEqual(r.weights(), ckpt.weights());

        // the saved weights classify the validation images as the trainer's validation pass did
        ImageFolder val = ImageFolder.scan(Runs.MNIST_VAL);
        int correct = 0;
        try (KernelBackend device = KernelBackend.open(backend, Precision.FP32); ForwardSession s = new ForwardSession(device, saved, 50);
             BatchLoader loader = new BatchLoader(71, 71, 1, 1)) {
            BatchLoader.Stream st = loader.inOrder(val, 50);
            while (st.hasNext()) {
                Batch b = st.next();
                Tensor p = s.run(b.images());
                correct += Trainer.countCorrect(p, b.labels());
            }
        }
        assertEquals(last.valAccuracy(), correct / 200.0, 1e-9);
    }
}
