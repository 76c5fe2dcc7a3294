package io.jxception.train;

import io.jxception.internal.train.Checkpoint;
import io.jxception.model.XceptionGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class ResumeTest {
    /** Steps of {@link Runs#small}: 200 images / batch 8 = 25 per epoch. */
    static final int STEPS_PER_EPOCH = 25;

    /**
     * maxSteps stops on the checkpoint grid (every 10 steps), as a crash would leave the run. (A stop
     * off the grid resumes bit for bit too: every backend keeps its training state at fp32 values.)
     */
    @Test
    void runStoppedMidEpochResumesBitForBit(@TempDir Path tmp) throws IOException {
        TrainOptions full = Runs.small(tmp.resolve("full")).checkpointEvery(10).build();
        Trainer.Result want = Runs.train(full, null);
        assertEquals(2 * STEPS_PER_EPOCH, want.steps());

        TrainOptions.Builder interrupted = Runs.small(tmp.resolve("interrupted")).checkpointEvery(10);
        Trainer.Result stopped = Runs.train(interrupted.maxSteps(30).build(), null);
        assertFalse(stopped.complete());
        assertEquals(30, stopped.steps());
        XceptionGraph graph = want.weights().graph();
        Checkpoint mid = Checkpoint.read(tmp.resolve("interrupted").resolve(Trainer.CHECKPOINT), graph);
        assertEquals(30, mid.state().step());
        assertEquals(1, mid.state().epoch());
        assertEquals(5, mid.state().batchInEpoch(), "stopped inside the second epoch");

        StringBuilder log = new StringBuilder();
        Trainer.Result resumed = Runs.train(interrupted.maxSteps(0).resume(true).build(), log);
        assertTrue(log.toString().contains("resuming from"), log.toString());
        assertTrue(resumed.complete());
        Runs.assertBitwiseEqual(want.weights(), resumed.weights());
        Checkpoint a = Checkpoint.read(tmp.resolve("full").resolve(Trainer.CHECKPOINT), graph);
        Checkpoint b = Checkpoint.read(tmp.resolve("interrupted").resolve(Trainer.CHECKPOINT), graph);
        Runs.assertBitwiseEqual(a.velocities(), b.velocities(), "momentum");
        assertEquals(a.state().rngEpochStart(), b.state().rngEpochStart());
        for (int e = 0; e < 2; e++) {
            // the log rows agree up to the timing columns (epoch, step, lr, losses, accuracies)
            assertEquals(loggedResults(want.history().get(e)), loggedResults(resumed.history().get(e)), "epoch " + (e + 1));
        }
    }

    private static String loggedResults(EpochRecord r) {
        return String.join(",", java.util.Arrays.copyOf(r.toCsv().split(","), 7));
    }

    @Test
    void resumeRefusesACheckpointOfAnotherRunAndANewRunRefusesToOverwriteIt(@TempDir Path tmp) throws IOException {
        Runs.train(Runs.small(tmp).maxSteps(3).build(), null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Runs.train(Runs.small(tmp).batchSize(10).resume(true).build(), null));
        assertTrue(e.getMessage().contains("batch size 8 but this run has 10"), e.getMessage());
        IllegalArgumentException fresh = assertThrows(IllegalArgumentException.class, () -> Runs.train(Runs.small(tmp).build(), null));
        assertTrue(fresh.getMessage().contains("already holds a training checkpoint: resume it (--resume) or choose another output folder"), fresh.getMessage());
    }

    /**
     * A separate JVM runs {@code jxception train} and is SIGKILLed as soon as its first checkpoint
     * appears (mid-epoch: checkpoints every 4 steps, 25 steps per epoch). Resuming from what it left
     * ends with the same weights, bit for bit, as a run never interrupted.
     */
    @Test
    void processKilledMidEpochResumesToTheUninterruptedWeights(@TempDir Path tmp) throws Exception {
        Path killedOut = tmp.resolve("killed");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-Djava.awt.headless=true", "-cp", System.getProperty("java.class.path"), "io.jxception.cli.Main", "train",
                Runs.MNIST_VAL.toString(), "--out", killedOut.toString(), "--backend", "cpu", "--size", "71", "--width", "0.0625",
                "--middle-blocks", "1", "--batch", "8", "--epochs", "3", "--schedule", "cosine", "--lr", "0.02", "--seed", "3",
                "--checkpoint-every", "4", "--loader-threads", "1", "--prefetch", "2"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile()).start();
        Path ckpt = killedOut.resolve(Trainer.CHECKPOINT);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            while (!Files.exists(ckpt) && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(20);
            assertTrue(p.isAlive(), "the child exited before it could be killed:\n" + Files.readString(tmp.resolve("child.log")));
            assertTrue(Files.exists(ckpt), "no checkpoint within 180 s:\n" + Files.readString(tmp.resolve("child.log")));
        } finally {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        TrainOptions.Builder same = Runs.small(killedOut).epochs(3).checkpointEvery(4).momentum(0.9).weightDecay(1e-5);
        Trainer.Result want = Runs.train(same.outputDir(tmp.resolve("uninterrupted")).build(), null);
        XceptionGraph graph = want.weights().graph();

        Checkpoint left = Checkpoint.read(ckpt, graph);
        assertTrue(left.state().step() < 3 * STEPS_PER_EPOCH, "the kill came after the run ended");
        try (Stream<Path> files = Files.list(killedOut)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().equals(Trainer.WEIGHTS)), "killed run must not have finished");
        }
        StringBuilder log = new StringBuilder();
        Trainer.Result resumed = Runs.train(same.outputDir(killedOut).resume(true).build(), log);
        assertTrue(log.toString().contains("resuming from " + ckpt + " at step " + left.state().step()), log.toString());
        assertTrue(resumed.complete());
        Runs.assertBitwiseEqual(want.weights(), resumed.weights());
    }
}
