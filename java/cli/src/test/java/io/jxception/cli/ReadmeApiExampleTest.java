package io.jxception.cli;

import io.jxception.backend.Backend;
import io.jxception.backend.Backends;
import io.jxception.backend.Precision;
import io.jxception.exec.InferenceSession;
import io.jxception.image.Interpolation;
import io.jxception.image.KerasPreprocessing;
import io.jxception.image.TopK;
import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.weights.WeightsFiles;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The README's "Using it from Java" example, step by step, on the tiny fixture and the cpu backend. */
class ReadmeApiExampleTest {
    @Test
    void readmeExampleRuns(@TempDir Path dir) throws IOException {
        Path image = dir.resolve("cat.png");
        BufferedImage im = new BufferedImage(120, 90, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 90; y++) for (int x = 0; x < 120; x++) im.setRGB(x, y, (x * 2) << 16 | (y * 2) << 8 | 77);
        ImageIO.write(im, "png", image.toFile());

        Path file = Fixtures.h5(Fixtures.TINY_TOP);
        XceptionConfig config = WeightsFiles.inferConfig(file, 71, 71);
        XceptionWeights weights = WeightsFiles.load(file, XceptionGraph.build(config));
        try (Backend backend = Backends.open("cpu", Precision.FP32);
             InferenceSession session = new InferenceSession(backend, weights, 32)) {
            Tensor x = KerasPreprocessing.load(image, 71, 71, Interpolation.NEAREST);
            assertEquals(Shape.of(1, 71, 71, 3), x.shape());
            Tensor probabilities = session.run(x);
            assertEquals(Shape.of(1, 10), probabilities.shape());
            List<TopK.Entry> top = TopK.of(probabilities.data(), 5);
            assertEquals(5, top.size());
        }

        XceptionConfig features = config.withoutTop(Pooling.AVG);
        try (Backend backend = Backends.open("cpu", Precision.FP32);
             InferenceSession session = new InferenceSession(backend, WeightsFiles.load(file, XceptionGraph.build(features)), 1)) {
            assertEquals(Shape.of(1, 128), session.run(KerasPreprocessing.load(image, 71, 71, Interpolation.BILINEAR)).shape());
        }
    }

    /** The README's uint8 and DynamicBatcher snippets, on two cpu backends standing in for two GPUs. */
    @Test
    void readmeUint8AndBatcherExamplesRun(@TempDir Path dir) throws Exception {
        Path file = Fixtures.h5(Fixtures.TINY_TOP);
        XceptionWeights weights = WeightsFiles.load(file, XceptionGraph.build(WeightsFiles.inferConfig(file, 71, 71)));
        byte[] raw = new byte[2 * 71 * 71 * 3];
        new java.util.Random().nextBytes(raw);
        Path npy = dir.resolve("images_u8.npy");
        io.jxception.tensor.Npy.write(npy, new io.jxception.tensor.Uint8Tensor(Shape.of(2, 71, 71, 3), raw));
        try (io.jxception.backend.Backend gpu0 = Backends.open("cpu", Precision.FP32); io.jxception.backend.Backend gpu1 = Backends.open("cpu", Precision.FP32);
             InferenceSession s0 = new InferenceSession(gpu0, weights, 64); InferenceSession s1 = new InferenceSession(gpu1, weights, 64);
             io.jxception.exec.DynamicBatcher batcher = new io.jxception.exec.DynamicBatcher(List.of(s0, s1), io.jxception.exec.DynamicBatcher.Options.of(64)
                     .withMaxDelay(java.time.Duration.ofMillis(5)).withQueue(4096, io.jxception.exec.DynamicBatcher.WhenFull.REJECT))) {
            io.jxception.tensor.Uint8Tensor pixels = io.jxception.tensor.Npy.readUint8(npy);
            java.util.concurrent.CompletableFuture<Tensor> answer = batcher.submit(new io.jxception.tensor.Uint8Tensor(Shape.of(71, 71, 3),
                    java.util.Arrays.copyOf(pixels.data(), 71 * 71 * 3)));
            Tensor row = answer.get();
            assertEquals(Shape.of(1, 10), row.shape());
        }
    }
}
