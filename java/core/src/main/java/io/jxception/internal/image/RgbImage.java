package io.jxception.internal.image;

import io.jxception.image.Interpolation;
import java.util.Objects;

/**
 * A decoded 8-bit RGB image: {@code pixels} (height, width, 3) HWC, row-major, values 0..255 held
 * as floats (integers after decoding and after {@link Interpolation} resizing, which rounds like Pillow).
 */
public record RgbImage(int height, int width, float[] pixels) {
    public RgbImage {
        Objects.requireNonNull(pixels, "pixels");
        if (height < 1 || width < 1) throw new IllegalArgumentException("image must be at least 1x1, got " + height + "x" + width);
        if (pixels.length != (long) height * width * 3) {
            throw new IllegalArgumentException("a " + height + "x" + width + " RGB image needs " + (long) height * width * 3 + " values, got " + pixels.length);
        }
    }

    /** Channel {@code c} (0 red, 1 green, 2 blue) of the pixel at row {@code y}, column {@code x}. */
    public float get(int y, int x, int c) { return pixels[(y * width + x) * 3 + c]; }

    /** This image at {@code height × width}; itself when the size already matches (as Keras' load_img). */
    public RgbImage resize(int newHeight, int newWidth, Interpolation interpolation) {
        if (newHeight == height && newWidth == width) return this;
        return Resampling.resize(this, newHeight, newWidth, interpolation);
    }
}
