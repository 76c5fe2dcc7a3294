package io.jxception.internal.image;

import io.jxception.image.KerasPreprocessing;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;

import java.util.List;

/** Decoded images of the input size → the network's input batch, preprocessed as Keras does. */
public final class InputBatches {
    private InputBatches() {}

    /** Images that already have the input size → (n, H, W, 3) NHWC float32 in [−1, 1] ({@link KerasPreprocessing#tf}). */
    public static Tensor of(List<RgbImage> images) {
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
            for (int i = 0; i < perImage; i++) x[n * perImage + i] = KerasPreprocessing.tf(p[i]);
        }
        return new Tensor(Shape.of(images.size(), h, w, 3), x);
    }
}
