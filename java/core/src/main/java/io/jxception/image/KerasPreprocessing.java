package io.jxception.image;

import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Keras' {@code xception.preprocess_input} ({@code mode='tf'}): x / 127.5 − 1, mapping 0..255 to
 * [−1, 1], computed in float32 as NumPy does. Produces the network's NHWC input.
 */
public final class KerasPreprocessing {
    private KerasPreprocessing() {}

    /** One value: v / 127.5 − 1 in float32. */
    public static float tf(float v) { return v / 127.5f - 1f; }

    /** Images that already have the input size → (n, H, W, 3) NHWC float32 in [−1, 1]. */
    public static Tensor batch(List<RgbImage> images) {
        if (images.isEmpty()) throw new IllegalArgumentException("no images");
        int h = images.get(0).height(), w = images.get(0).width();
        int perImage = h * w * 3;
        float[] x = new float[Math.multiplyExact(images.size(), perImage)]; // (n, H, W, 3)
        for (int n = 0; n < images.size(); n++) {
            RgbImage im = images.get(n);
            if (im.height() != h || im.width() != w) {
                throw new IllegalArgumentException("image " + n + " is " + im.height() + "x" + im.width() + ", expected " + h + "x" + w + ": resize first");
            }
            float[] p = im.pixels();
            for (int i = 0; i < perImage; i++) x[n * perImage + i] = tf(p[i]);
        }
        return new Tensor(Shape.of(images.size(), h, w, 3), x);
    }

    /**
     * What {@code preprocess_input(img_to_array(load_img(file, target_size=(h, w), interpolation=...)))[None]}
     * gives in Keras: (1, h, w, 3).
     */
    public static Tensor load(Path file, int h, int w, Interpolation interpolation) throws IOException {
        return batch(List.of(ImageFiles.read(file).resize(h, w, interpolation)));
    }
}
