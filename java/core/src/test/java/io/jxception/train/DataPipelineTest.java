package io.jxception.train;

import io.jxception.internal.train.Batch;
import io.jxception.internal.train.BatchLoader;
import io.jxception.internal.train.EpochPlan;
import io.jxception.internal.train.ImageFolder;
import io.jxception.internal.train.Augmenter;
import io.jxception.internal.train.Rng;
import io.jxception.internal.image.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class DataPipelineTest {
    static final Path MNIST = Path.of("weights/fixtures/mnist");

    @Test
    void imageFolderListsSortedClassesAndFiles() throws IOException {
        ImageFolder train = ImageFolder.scan(MNIST.resolve("train"));
        assertEquals(List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), train.classes());
        assertEquals(600, train.examples().size());
        assertEquals(MNIST.resolve("train/0/0000.png"), train.examples().get(0).file());
        assertEquals(9, train.examples().get(599).label());
        ImageFolder val = ImageFolder.scan(MNIST.resolve("val"));
        train.requireSameClasses(val);
        assertEquals(200, val.examples().size());
    }

    @Test
    void imageFolderRejectsAFolderWithoutClassSubfolders(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("a.png"), "x");
        IOException e = assertThrows(IOException.class, () -> ImageFolder.scan(dir));
        assertTrue(e.getMessage().contains("one sub-folder per class"), e.getMessage());
    }

    @Test
    void validationSplitIsStratifiedDisjointAndSeeded() throws IOException {
        ImageFolder all = ImageFolder.scan(MNIST.resolve("train"));
        ImageFolder.Split a = all.split(0.2, 7), b = all.split(0.2, 7), c = all.split(0.2, 8);
        assertEquals(a, b);
        assertNotEquals(a.validation().examples(), c.validation().examples());
        assertEquals(120, a.validation().examples().size());
        assertEquals(480, a.train().examples().size());
        for (int label = 0; label < 10; label++) {
            final int l = label;
            assertEquals(12, a.validation().examples().stream().filter(e -> e.label() == l).count());
        }
        Set<ImageFolder.Example> seen = new HashSet<>(a.train().examples());
        for (ImageFolder.Example e : a.validation().examples()) assertTrue(seen.add(e), "example in both sets: " + e);
    }

    @Test
    void epochPlanIsAPermutationDrawnOnlyFromTheRngState() {
        EpochPlan p = EpochPlan.draw(0, 42, 103, 10), q = EpochPlan.draw(0, 42, 103, 10);
        assertArrayEquals(p.order(), q.order());
        assertArrayEquals(p.batchSeeds(), q.batchSeeds());
        assertEquals(10, p.batches(), "the incomplete last batch is dropped");
        assertEquals(100, new HashSet<>(java.util.Arrays.stream(p.order()).boxed().toList()).size());
        EpochPlan next = EpochPlan.draw(1, p.rngStateAfter(), 103, 10);
        assertFalse(java.util.Arrays.equals(p.order(), next.order()), "each epoch reshuffles");
        assertArrayEquals(java.util.Arrays.copyOfRange(p.order(), 30, 40), p.batch(3));
    }

    @Test
    void backgroundBatchesEqualBatchesLoadedOnTheCallingThread() throws IOException {
        ImageFolder train = ImageFolder.scan(MNIST.resolve("train"));
        EpochPlan plan = EpochPlan.draw(0, 5, train.examples().size(), 8);
        Augmentation crop = new Augmentation(4, false);
        try (BatchLoader loader = new BatchLoader(71, 71, 3, 2)) {
            BatchLoader.Stream s = loader.training(train, plan, 70, crop);
            for (int b = 70; b < plan.batches(); b++) {
                Batch got = s.next();
                Batch want = loader.load(train.examples(), plan.batch(b), plan.batchSeeds()[b], crop, b);
                assertEquals(b, got.index());
                assertArrayEquals(want.labels(), got.labels());
                assertArrayEquals(want.images().data(), got.images().data());
            }
            assertFalse(s.hasNext());
        }
    }

    @Test
    void batchesArePreprocessedNhwcInMinusOneToOne() throws IOException {
        ImageFolder val = ImageFolder.scan(MNIST.resolve("val"));
        try (BatchLoader loader = new BatchLoader(71, 71, 1, 1)) {
            Batch b = loader.inOrder(val, 64).next();
            assertArrayEquals(new int[]{64, 71, 71, 3}, b.images().shape().dims());
            float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
            for (float v : b.images().data()) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            assertEquals(-1f, min, "MNIST background is black: 0/127.5 - 1");
            assertTrue(max > 0.9f, "strokes are near white, got max " + max);
            float[] d = b.images().data();
            assertEquals(d[0], d[1]);
            assertEquals(d[1], d[2], "grayscale is replicated to RGB");
            // the whole validation set comes in file order, the last batch partial
            BatchLoader.Stream s = loader.inOrder(val, 64);
            int total = 0;
            while (s.hasNext()) total += s.next().size();
            assertEquals(200, total);
        }
    }

    @Test
    void cropShiftsTheImageWithinThePaddingAndFlipMirrors() {
        int h = 5, w = 7;
        float[] px = new float[h * w * 3];
        for (int i = 0; i < px.length; i++) px[i] = i;
        RgbImage im = new RgbImage(h, w, px);
        assertSame(im, Augmenter.apply(Augmentation.NONE, im, new Rng(1)));
        RgbImage flipped = Augmenter.apply(new Augmentation(0, true), im, new Rng(3));
        RgbImage flippedAgain = Augmenter.apply(new Augmentation(0, true), flipped, new Rng(3));
        if (flipped.get(0, 0, 0) != im.get(0, 0, 0)) {
            assertEquals(im.get(2, w - 1, 1), flipped.get(2, 0, 1));
            assertArrayEquals(im.pixels(), flippedAgain.pixels(), "same draw flips back");
        }
        for (long seed = 0; seed < 20; seed++) {
            RgbImage c = Augmenter.apply(new Augmentation(2, false), im, new Rng(seed));
            // find the shift: the centre pixel must come from within ±2 pixels
            float centre = c.get(2, 3, 0);
            int src = (int) centre / 3, sy = src / w, sx = src % w;
            assertTrue(Math.abs(sy - 2) <= 2 && Math.abs(sx - 3) <= 2, "shift out of range for seed " + seed);
            assertEquals(im.get(sy, sx, 2), c.get(2, 3, 2));
        }
    }
}
