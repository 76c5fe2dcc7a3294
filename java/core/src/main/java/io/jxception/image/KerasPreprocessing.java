package io.jxception.image;

import io.jxception.internal.image.ImageFiles;
import io.jxception.internal.image.InputBatches;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Images to network input, as Keras computes it: {@code load_img} (decode, convert to RGB as Pillow
 * does, resize with {@link Interpolation}), {@code img_to_array}, then
 * {@code xception.preprocess_input} ({@code mode='tf'}): x / 127.5 − 1 in float32, mapping 0..255 to
 * [−1, 1]. Produces (n, H, W, 3) NHWC tensors for {@link io.jxception.exec.InferenceSession#run}.
 *
 * <p>Decodes JPEG and PNG (also GIF, BMP and TIFF). Stateless: every method may be called from many
 * threads at once.
 */
public final class KerasPreprocessing {
    private KerasPreprocessing() {}

    /** One value: v / 127.5 − 1 in float32. */
    public static float tf(float v) { return v / 127.5f - 1f; }

    /**
     * What {@code preprocess_input(img_to_array(load_img(file, target_size=(h, w), interpolation=...)))[None]}
     * gives in Keras: (1, h, w, 3).
     *
     * @throws IOException when the file is missing, unreadable or not a decodable image (the message starts with the file name)
     */
    public static Tensor load(Path file, int h, int w, Interpolation interpolation) throws IOException {
        return InputBatches.of(List.of(ImageFiles.read(file, h, w, interpolation)));
    }

    /**
     * {@link #load} for an image file's bytes held in memory (e.g. a Spark {@code binaryFile} row):
     * (1, h, w, 3). {@code name} (a path or an identifier) starts every error message.
     *
     * @throws IOException when the bytes are not a decodable image
     */
    public static Tensor decode(byte[] encoded, String name, int h, int w, Interpolation interpolation) throws IOException {
        return InputBatches.of(List.of(ImageFiles.decode(encoded, name, h, w, interpolation)));
    }

    /**
     * Stacks inputs along the batch axis: tensors (n_i, H, W, 3) of one H and W → (Σ n_i, H, W, 3).
     *
     * @throws IllegalArgumentException for an empty list or tensors of different or non-image shapes
     */
    public static Tensor stack(List<Tensor> inputs) {
        if (inputs.isEmpty()) throw new IllegalArgumentException("no inputs to stack");
        Shape first = inputs.get(0).shape();
        long images = 0;
        for (Tensor t : inputs) {
            Shape s = t.shape();
            if (s.rank() != 4 || s.dim(3) != 3 || s.dim(1) != first.dim(1) || s.dim(2) != first.dim(2) || first.rank() != 4) {
                throw new IllegalArgumentException("cannot stack an input of shape " + s + " with one of shape " + first + ": expected (n, H, W, 3) of one H and W");
            }
            images += s.dim(0);
        }
        int perImage = first.dim(1) * first.dim(2) * 3;
        float[] x = new float[Math.toIntExact(Math.multiplyExact(images, (long) perImage))]; // (Σn, H, W, 3)
        int at = 0;
        for (Tensor t : inputs) {
            System.arraycopy(t.data(), 0, x, at, t.data().length);
            at += t.data().length;
        }
        return new Tensor(Shape.of((int) images, first.dim(1), first.dim(2), 3), x);
    }
}
