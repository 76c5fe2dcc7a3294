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
}
