package io.jxception.train;

import io.jxception.distributed.Mpirun;
import io.jxception.internal.backend.cpu.CpuBackend;
import io.jxception.internal.exec.TrainingSession;
import io.jxception.internal.train.Batch;
import io.jxception.internal.train.BatchLoader;
import io.jxception.internal.train.Checkpoint;
import io.jxception.internal.train.EpochPlan;
import io.jxception.internal.train.ImageFolder;
import io.jxception.internal.train.InitialWeights;
import io.jxception.model.Node;
import io.jxception.model.ParamSpec;
import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Tensor;
import io.jxception.weights.WeightsFiles;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Data-parallel training under a real Open MPI {@code mpirun -np 2} on loopback, on the cpu
 * reference with {@link Runs#small}'s network (71×71, width 1/16, one middle block, MNIST digits).
 * One job ({@link #job}) runs four trainings one after the other in the same two processes (JVM and
 * MPI start once), and the tests compare them with single-process computations here:
 * <ul>
 *   <li>2 ranks × batch 4 with synchronised batch norm = 1 process × batch 8, after 3 SGD steps,
 *       within 1e-5 relative (weights, moving statistics, losses);</li>
 *   <li>without it, the documented semantics, bit for bit: each rank's half batch normalised by its
 *       own statistics, the gradients of the two halves (each of loss/2) summed in fp32, the moving
 *       statistics averaged, one SGD step;</li>
 *   <li>a stop asked on one rank stops both after the same step with a checkpoint;</li>
 *   <li>a rank killed mid-run fails the job within a timeout, and a 2-rank {@code --resume} from
 *       the last checkpoint ends with the uninterrupted run's weights, bit for bit (the
 *       uninterrupted run sums its gradients after the backward pass, the others during it: the
 *       same sums).</li>
 * </ul>
 */
class DataParallelUnderMpirunTest {
    static final int BATCH = 4, STEPS = 3;
    static final double SYNC_BOUND = 1e-5;
    @TempDir static Path tmp;
    static Mpirun.Run job;
    static Map<Integer, Map<String, List<String>>> ranks;

    /** The four trainings of the first job: sync BN, per-process BN (small buckets), the uninterrupted 6 steps for the resume test, a stop request. */
    @BeforeAll
    static void trainOnTwoRanks() throws Exception {
        Mpirun.require();
        job = Mpirun.ranks(2, Mpirun.java(DataParallelScenarios.class,
                "out=" + tmp.resolve("sync"), "batch=" + BATCH, "steps=" + STEPS, "sync=true", "save=" + tmp.resolve("sync.safetensors"), "--",
                // 16 KB buckets: the tiny network's gradients (about 260 KB) travel in many buckets
                "out=" + tmp.resolve("local"), "batch=" + BATCH, "steps=" + STEPS, "bucket=16384", "save=" + tmp.resolve("local.safetensors"), "--",
                // blocking sums after the backward pass; the killed and resumed runs overlap: the sums, and so the weights, are the same
                "out=" + tmp.resolve("whole"), "batch=" + BATCH, "steps=6", "every=2", "sync=true", "overlap=false", "save=" + tmp.resolve("whole.safetensors"), "--",
                "out=" + tmp.resolve("stop"), "batch=" + BATCH, "steps=20", "stop-after=3"), 600);
        ranks = job.byRank();
    }

    @Test
    void everyTrainingEndsOnBothRanksWithTheSameWeights() {
        assertEquals(0, job.exitCode(), job.output());
        assertEquals(Set.of(0, 1), ranks.keySet(), job.output());
        for (int run = 0; run < 4; run++) {
            assertEquals(ranks.get(0).get("crc" + run), ranks.get(1).get("crc" + run), "run " + run + ": the ranks' weights differ\n" + job.output());
            assertEquals(ranks.get(0).get("loss" + run), ranks.get(1).get("loss" + run), "run " + run + ": every rank logs the same global loss");
        }
        assertTrue(ranks.get(0).get("message0").stream().anyMatch(m -> m.startsWith("data parallel: 2 processes x batch 4 = global batch 8, synchronised batch norm")),
                ranks.get(0).get("message0").toString());
        assertTrue(ranks.get(0).get("message1").stream().anyMatch(m -> m.contains("per-process batch norm, gradients in ") && !m.contains("in 1 buckets")),
                "16 KB buckets make several: " + ranks.get(0).get("message1"));
    }

    @Test
    void twoRanksWithSyncBatchNormEqualOneProcessWithTheDoubleBatch() throws IOException {
        assertEquals(0, job.exitCode(), job.output());
        List<Double> losses = new ArrayList<>();
        TrainOptions o = Runs.small(tmp.resolve("one-process")).batchSize(2 * BATCH).maxSteps(STEPS).checkpointEvery(0).build();
        Trainer.Result want;
        try (CpuBackend backend = new CpuBackend(2)) {
            want = new Trainer(backend, o).listener(new TrainingListener() {
                @Override public void stepDone(int batchesDone, double meanLoss, double accuracy, double imagesPerSecond) { losses.add(meanLoss); }
            }).run();
        }
        XceptionWeights got = WeightsFiles.load(tmp.resolve("sync.safetensors"), want.weights().graph());
        double weights = Runs.maxRelativeDifference(want.weights().asMap(), got.asMap());
        List<Double> gotLosses = losses(0, 0);
        assertEquals(STEPS, gotLosses.size());
        double loss = 0;
        for (int i = 0; i < STEPS; i++) loss = Math.max(loss, Math.abs(gotLosses.get(i) - losses.get(i)) / Math.abs(losses.get(i)));
        System.out.printf("sync BN, 2 ranks x %d vs 1 x %d after %d steps: weights %.2e, loss %.2e relative%n", BATCH, 2 * BATCH, STEPS, weights, loss);
        assertTrue(weights < SYNC_BOUND, "weights (moving statistics included) differ by " + weights + " relative");
        assertTrue(loss < SYNC_BOUND, "losses differ by " + loss + " relative: " + losses + " vs " + gotLosses);
        // the bound can fail: per-process batch norm (the second training) is farther from one big batch than that
        XceptionWeights local = WeightsFiles.load(tmp.resolve("local.safetensors"), want.weights().graph());
        double perProcess = Runs.maxRelativeDifference(want.weights().asMap(), local.asMap());
        assertTrue(perProcess > 100 * SYNC_BOUND, "without sync BN the weights should differ from one big batch's, but by only " + perProcess);
    }

    /**
     * Without sync BN: the same three steps computed here by two sessions that hold the two half
     * batches, each normalising by its own half and back-propagating loss/2; their fp32 gradients
     * added, their moving statistics averaged, and the same SGD step on both. Bit for bit.
     */
    @Test
    void twoRanksWithoutSyncBatchNormAreTwoHalfBatchesWithSummedGradientsAndAveragedMovingStatistics() throws IOException {
        assertEquals(0, job.exitCode(), job.output());
        TrainOptions o = Runs.small(tmp.resolve("unused")).build();
        ImageFolder data = ImageFolder.scan(o.trainData());
        XceptionGraph graph = smallGraph();
        XceptionWeights initial = InitialWeights.load(null, graph, o.seed());
        int global = 2 * BATCH, examples = data.examples().size();
        long stepsPerEpoch = examples / global, scheduleSteps = o.epochs() * stepsPerEpoch;
        EpochPlan plan = EpochPlan.draw(0, o.seed(), examples, global);
        List<String> movingKeys = new ArrayList<>();
        for (Node n : graph.nodes()) {
            if (n instanceof Node.Conv c) {
                movingKeys.add(c.bnLayer() + "/moving_mean");
                movingKeys.add(c.bnLayer() + "/moving_variance");
            }
        }
        List<Double> means = new ArrayList<>();
        try (CpuBackend backend = new CpuBackend(2); BatchLoader loader = new BatchLoader(o.inputSize(), o.inputSize(), 1, 1);
             TrainingSession first = new TrainingSession(backend, initial, BATCH); TrainingSession second = new TrainingSession(backend, initial, BATCH)) {
            TrainingSession[] halves = {first, second};
            double lossSum = 0;
            for (int step = 0; step < STEPS; step++) {
                double loss = 0;
                for (int h = 0; h < 2; h++) {
                    int[] indices = Arrays.copyOfRange(plan.batch(step), h * BATCH, (h + 1) * BATCH);
                    Batch b = loader.load(data.examples(), indices, plan.batchSeeds()[step], o.augmentation(), step);
                    loss += halves[h].forwardBackward(b.images(), b.labels(), 0.5f);
                }
                lossSum += loss / 2;
                means.add(lossSum / (step + 1));
                for (ParamSpec p : graph.params()) {
                    if (!p.trainable()) continue;
                    float[] sum = add(halves[0].gradients().get(p.key()), halves[1].gradients().get(p.key()), 1f);
                    for (TrainingSession s : halves) backend.upload(sum, s.gradientBuffer(p.key()));
                }
                for (String key : movingKeys) {
                    float[] average = add(halves[0].weights().get(key), halves[1].weights().get(key), 0.5f);
                    for (TrainingSession s : halves) backend.upload(average, s.paramBuffer(key));
                }
                double lr = o.learningRate().rate(step, stepsPerEpoch, scheduleSteps);
                for (TrainingSession s : halves) s.sgdStep((float) lr, (float) o.momentum(), (float) o.weightDecay());
            }
            XceptionWeights got = WeightsFiles.load(tmp.resolve("local.safetensors"), graph);
            Runs.assertBitwiseEqual(halves[0].weights(), got);
            assertEquals(means, losses(0, 1), "the running mean of the two halves' mean loss");
        }
    }

    @Test
    void aStopAskedOnOneRankStopsBothAfterTheSameStepWithACheckpoint() throws IOException {
        assertEquals(0, job.exitCode(), job.output());
        for (int r = 0; r < 2; r++) {
            // asked after step 3 (between steps): every rank learns of it in step 4's agreement and stops after it
            assertEquals(List.of("4"), ranks.get(r).get("steps3"), "rank " + r + "\n" + job.output());
            assertEquals(List.of("false"), ranks.get(r).get("complete3"));
            assertTrue(ranks.get(r).get("stopped3").get(0).startsWith("stopped after step 4 (" + (r == 1 ? "test stop" : "stop requested on another process") + ")"),
                    ranks.get(r).get("stopped3").toString());
        }
        XceptionGraph graph = smallGraph();
        assertEquals(4, Checkpoint.read(tmp.resolve("stop").resolve(Trainer.CHECKPOINT), graph).state().step());
    }

    /**
     * Rank 1 is SIGKILLed after its 5th step (the checkpoint of step 4 is written): the job ends
     * within the timeout, mpirun names the rank and the signal, no rank finishes. Then the same
     * training with --resume on 2 ranks continues from step 4 and ends with the uninterrupted run's
     * weights, bit for bit.
     */
    @Test
    void aKilledRankFailsTheJobAndAResumedRunContinuesBitForBit() throws Exception {
        assertEquals(0, job.exitCode(), job.output());
        Path out = tmp.resolve("killed");
        List<String> common = List.of("out=" + out, "batch=" + BATCH, "steps=6", "every=2", "sync=true", "save=" + tmp.resolve("resumed.safetensors"));
        List<String> killed = new ArrayList<>(common);
        killed.add("die-after=5");
        Mpirun.Run dead = Mpirun.ranks(2, Mpirun.java(DataParallelScenarios.class, killed.toArray(String[]::new)), 180);
        assertNotEquals(0, dead.exitCode(), dead.output());
        assertTrue(dead.output().contains("R 1 dying after step 5"), dead.output());
        assertTrue(Pattern.compile("process rank 1 with PID \\d+ on node \\S+ exited on signal 9").matcher(dead.output()).find(),
                "mpirun names the rank and the signal:\n" + dead.output());
        assertFalse(dead.output().contains(" steps0 "), "no rank may finish:\n" + dead.output());
        XceptionGraph graph = smallGraph();
        assertEquals(4, Checkpoint.read(out.resolve(Trainer.CHECKPOINT), graph).state().step());

        List<String> resume = new ArrayList<>(common);
        resume.add("resume=true");
        Mpirun.Run resumed = Mpirun.ranks(2, Mpirun.java(DataParallelScenarios.class, resume.toArray(String[]::new)), 180);
        assertEquals(0, resumed.exitCode(), resumed.output());
        assertTrue(resumed.output().contains("resuming from " + out.resolve(Trainer.CHECKPOINT) + " at step 4"), resumed.output());
        Map<Integer, Map<String, List<String>>> r = resumed.byRank();
        assertEquals(List.of("6"), r.get(0).get("steps0"));
        assertEquals(r.get(0).get("crc0"), r.get(1).get("crc0"));
        Runs.assertBitwiseEqual(WeightsFiles.load(tmp.resolve("whole.safetensors"), graph), WeightsFiles.load(tmp.resolve("resumed.safetensors"), graph));
    }

    /** The network of {@link Runs#small} for the MNIST digits' 10 classes. */
    private static XceptionGraph smallGraph() {
        TrainOptions o = Runs.small(tmp).build();
        return XceptionGraph.build(new XceptionConfig(o.inputSize(), o.inputSize(), 10, true, Pooling.NONE, o.widthMultiplier(), o.middleRepeats()));
    }

    /** Rank r's running mean losses of training {@code run}, in step order. */
    private static List<Double> losses(int rank, int run) {
        List<Double> out = new ArrayList<>();
        for (String line : ranks.get(rank).getOrDefault("loss" + run, List.of())) out.add(Double.parseDouble(line.split(" ")[1]));
        return out;
    }

    /** (a + b)·scale in fp32, element by element. */
    private static float[] add(Tensor a, Tensor b, float scale) {
        float[] x = a.data(), y = b.data(), out = new float[x.length];
        for (int i = 0; i < x.length; i++) out[i] = (x[i] + y[i]) * scale;
        return out;
    }
}
