package io.jxception.train;

import io.jxception.internal.train.TrainerState;
import io.jxception.internal.weights.SafetensorsReader;
import io.jxception.internal.weights.SafetensorsWriter;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A training run refuses what it cannot train correctly from, before the first step: a checkpoint
 * whose metadata is off the run's plan, an output that is not a folder, an image that does not
 * decode (unless told to skip it); and a kill's leftovers are cleaned up.
 */
class TrainerHostileInputTest {
    /** A checkpoint of {@link Runs#small} stopped after 5 steps (epoch 0, batch 5 of 25). */
    static Path checkpointAt5;
    @TempDir static Path shared;

    @BeforeAll
    static void stoppedRun() throws IOException {
        Path out = shared.resolve("stopped");
        Trainer.Result r = Runs.train(Runs.small(out).epochs(2).maxSteps(5).build(), null);
        assertEquals(5, r.steps());
        checkpointAt5 = out.resolve(Trainer.CHECKPOINT);
    }

    /** Copies the checkpoint into a new output folder with one metadata field replaced; returns the folder. */
    private static Path withMetadata(Path dir, String key, String value) throws IOException {
        Path out = Files.createDirectories(dir.resolve(key + "-" + Math.abs(value.hashCode())));
        SafetensorsReader.Contents c = SafetensorsReader.read(checkpointAt5);
        Map<String, String> m = new LinkedHashMap<>(c.metadata());
        assertTrue(m.containsKey(key), key);
        m.put(key, value);
        SafetensorsWriter.write(out.resolve(Trainer.CHECKPOINT), c.tensors(), m);
        return out;
    }

    /** Resuming from the edited checkpoint fails before any step with a message naming the file and each fragment. */
    private static void assertResumeRefused(Path out, String... fragments) {
        AtomicInteger steps = new AtomicInteger();
        TrainingListener counting = new TrainingListener() {
            @Override public void stepDone(int batchesDone, double meanLoss, double accuracy, double imagesPerSecond) { steps.incrementAndGet(); }
        };
        IOException e = assertThrows(IOException.class, () -> {
            try (var b = io.jxception.internal.backend.KernelBackend.cpu()) {
                new Trainer(b, Runs.small(out).epochs(2).resume(true).build()).listener(counting).run();
            }
        });
        assertTrue(e.getMessage().contains(out.resolve(Trainer.CHECKPOINT).toString()), e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "missing '" + f + "' in: " + e.getMessage());
        assertEquals(0, steps.get(), "trained from a refused checkpoint");
        assertFalse(Files.exists(out.resolve(Trainer.WEIGHTS)));
    }

    @Test
    void negativeStepIsRefused(@TempDir Path dir) throws IOException {
        assertResumeRefused(withMetadata(dir, "step", "-50"), "step", "-50", "non-negative");
    }

    @Test
    void batchBeyondTheEpochIsRefused(@TempDir Path dir) throws IOException {
        assertResumeRefused(withMetadata(dir, "batch_in_epoch", "100000"), "batch_in_epoch = 100000", "25 batches per epoch");
    }

    @Test
    void negativeEpochIsRefused(@TempDir Path dir) throws IOException {
        assertResumeRefused(withMetadata(dir, "epoch", "-3"), "epoch", "-3");
    }

    @Test
    void epochBeyondThePlanIsRefused(@TempDir Path dir) throws IOException {
        assertResumeRefused(withMetadata(dir, "epoch", "7"), "epoch 7", "plans 2 epochs");
    }

    @Test
    void stepOffThePositionIsRefused(@TempDir Path dir) throws IOException {
        int wrong = 6 + new Random().nextInt(1000);
        assertResumeRefused(withMetadata(dir, "step", Integer.toString(wrong)), "step = " + wrong, "step 5 expected");
    }

    @Test
    void everyOtherFieldIsChecked(@TempDir Path dir) throws IOException {
        String[][] cases = {
                {"epoch_seen", "-1"}, {"epoch_seen", "41"}, {"epoch_correct", "41"}, {"epoch_loss_sum", "NaN"}, {"epoch_loss_sum", "-2"},
                {"epoch_seconds", "Infinity"}, {"epoch_last_lr", "1e999"}, {"loss_scale", "0"}, {"loss_scale", "-1"},
                {"loss_scale_good_steps", "-7"}, {"loss_scale_skipped_steps", "6"}, {"epoch_skipped_steps", "9"},
                {"rng_state", "xyz"}, {"rng_state", "1234567890abcdef0"}, {"batch_size", "0"}, {"train_examples", "-200"},
                {"version", "1\u001b[31m"}, {"history", "epoch\n"},
        };
        for (String[] c : cases) {
            Path out = withMetadata(dir, c[0], c[1]);
            AtomicInteger steps = new AtomicInteger();
            Exception e = assertThrows(Exception.class, () -> {
                try (var b = io.jxception.internal.backend.KernelBackend.cpu()) {
                    new Trainer(b, Runs.small(out).epochs(2).resume(true).build()).listener(new TrainingListener() {
                        @Override public void stepDone(int batchesDone, double meanLoss, double accuracy, double imagesPerSecond) { steps.incrementAndGet(); }
                    }).run();
                }
            }, c[0] + "=" + c[1]);
            assertTrue(e.getMessage().contains(c[0]) || e.getMessage().contains("epoch_"), c[0] + "=" + c[1] + ": " + e.getMessage());
            assertFalse(e.getMessage().contains("\u001b"), "terminal escape printed: " + e.getMessage());
            assertEquals(0, steps.get(), c[0] + "=" + c[1]);
        }
    }

    @Test
    void theUneditedCheckpointStillResumes(@TempDir Path dir) throws IOException {
        Path out = withMetadata(dir, "format", TrainerState.FORMAT);
        Trainer.Result r = Runs.train(Runs.small(out).epochs(1).resume(true).build(), null);
        assertEquals(25, r.steps());
        assertTrue(r.complete());
    }

    @Test
    void finalWeightsDoNotDependOnCheckpointInterval(@TempDir Path dir) throws IOException {
        Trainer.Result none = Runs.train(Runs.small(dir.resolve("none")).epochs(1).checkpointEvery(0).build(), null);
        Trainer.Result often = Runs.train(Runs.small(dir.resolve("often")).epochs(1).checkpointEvery(3).build(), null);
        Runs.assertBitwiseEqual(none.weights(), often.weights());
    }

    @Test
    void outputThatIsAFileIsRefusedBeforeAnyWork(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("out"), "not a folder");
        IOException e = assertThrows(IOException.class, () -> Runs.train(Runs.small(file).build(), null));
        assertTrue(e.getMessage().contains("output folder " + file + " exists and is not a folder but a file"), e.getMessage());
        assertEquals("not a folder", Files.readString(file));
    }

    @Test
    void staleTemporaryFilesOfAKilledWriteAreRemovedOnResume(@TempDir Path dir) throws IOException {
        Path out = withMetadata(dir, "format", TrainerState.FORMAT);
        Path stale = Files.write(out.resolve("." + Trainer.CHECKPOINT + "." + Long.toUnsignedString(new Random().nextLong()) + ".tmp"), new byte[]{1, 2, 3});
        Path mine = Files.writeString(out.resolve("notes.txt"), "keep");
        StringBuilder log = new StringBuilder();
        Runs.train(Runs.small(out).epochs(1).resume(true).maxSteps(6).build(), log);
        assertFalse(Files.exists(stale), "stale temporary file kept");
        assertTrue(Files.exists(mine));
        assertTrue(log.toString().contains("removed " + stale), log.toString());
    }

    /** A copy of 2 MNIST classes × 8 images; returns the root. */
    private static Path smallTree(Path dir) throws IOException {
        Path root = dir.resolve("data");
        for (String cls : List.of("3", "7")) {
            Path to = Files.createDirectories(root.resolve(cls));
            try (Stream<Path> s = Files.list(Runs.MNIST_VAL.resolve(cls))) {
                for (Path p : s.sorted().limit(8).toList()) Files.copy(p, to.resolve(p.getFileName()));
            }
        }
        return root;
    }

    @Test
    void undecodableImageStopsTheRunBeforeTheFirstStep(@TempDir Path dir) throws IOException {
        Path root = smallTree(dir);
        Path bad = root.resolve("7").resolve("0005.png");
        byte[] all = Files.readAllBytes(bad);
        Files.write(bad, Arrays.copyOf(all, all.length / 2));
        AtomicInteger steps = new AtomicInteger(), lastChecked = new AtomicInteger(), total = new AtomicInteger();
        TrainingListener l = new TrainingListener() {
            @Override public void imagesChecked(int checked, int t) { lastChecked.set(checked); total.set(t); }
            @Override public void stepDone(int batchesDone, double meanLoss, double accuracy, double imagesPerSecond) { steps.incrementAndGet(); }
        };
        TrainOptions options = Runs.small(dir.resolve("out")).trainData(root).batchSize(4).epochs(1).build();
        IOException e = assertThrows(IOException.class, () -> {
            try (var b = io.jxception.internal.backend.KernelBackend.cpu()) {
                new Trainer(b, options).listener(l).run();
            }
        });
        assertTrue(e.getMessage().contains("1 of the 16 training images"), e.getMessage());
        assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("--skip-bad-images"), e.getMessage());
        assertEquals(0, steps.get());
        assertEquals(16, total.get());
        assertEquals(16, lastChecked.get());
    }

    @Test
    void skipBadImagesLeavesThemOutAndSaysWhich(@TempDir Path dir) throws IOException {
        Path root = smallTree(dir);
        List<Path> bad = new ArrayList<>();
        Random random = new Random();
        for (String name : List.of("3/0002.png", "7/0006.png")) {
            Path p = root.resolve(name);
            byte[] junk = new byte[100 + random.nextInt(100)];
            random.nextBytes(junk);
            Files.write(p, junk);
            bad.add(p);
        }
        StringBuilder log = new StringBuilder();
        Trainer.Result r = Runs.train(Runs.small(dir.resolve("out")).trainData(root).batchSize(7).epochs(1).skipBadImages(true).build(), log);
        assertEquals(2, r.steps(), "14 good images in batches of 7");
        for (Path p : bad) assertTrue(log.toString().contains("skipping training image " + p), log.toString());
        assertTrue(log.toString().contains("skipped 2 of 16 training images"), log.toString());
    }
}
