package io.jxception.cli;

import io.jxception.tensor.Npy;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.Random;

/** Test inputs: the weights fixtures of weights/fixtures/h5 and random preprocessed batches. */
final class Fixtures {
    /** weights/fixtures/h5/xception_tiny_top.h5: XceptionConfig.tiny(71, 10), width 1/16 (128 features), with the top. */
    static final String TINY_TOP = "xception_tiny_top.h5";
    /** The same network saved without avg_pool/predictions. */
    static final String TINY_NOTOP = "xception_tiny_notop.h5";
    /** A few ResNet50 layers: another architecture. */
    static final String RESNET = "resnet_like.h5";

    private Fixtures() {}

    static Path h5(String name) {
        URL url = Fixtures.class.getClassLoader().getResource("fixtures/h5/" + name);
        if (url == null) throw new IllegalStateException("test resource fixtures/h5/" + name + " missing (weights/fixtures/h5/" + name + ")");
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Uniform in [-1, 1): (n, h, w, 3), written as float32 .npy. */
    static Path randomInput(Path file, int n, int h, int w, long seed) throws IOException {
        Random rnd = new Random(seed);
        float[] d = new float[n * h * w * 3];
        for (int i = 0; i < d.length; i++) d[i] = rnd.nextFloat() * 2 - 1;
        Npy.write(file, new Tensor(Shape.of(n, h, w, 3), d));
        return file;
    }
}
