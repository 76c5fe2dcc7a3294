package io.jxception.internal.train;

import io.jxception.internal.image.RgbImage;
import io.jxception.train.Augmentation;

/** Applies an {@link Augmentation} to a training image. */
public final class Augmenter {
    private Augmenter() {}

    /** The augmented image, drawing the offsets and the flip from {@code rng} (always the same draws for one rng state). */
    public static RgbImage apply(Augmentation a, RgbImage image, Rng rng) {
        if (a.isNone()) return image;
        int cropPadding = a.cropPadding();
        boolean horizontalFlip = a.horizontalFlip();
        int h = image.height(), w = image.width();
        int dy = cropPadding == 0 ? 0 : rng.nextInt(2 * cropPadding + 1) - cropPadding;
        int dx = cropPadding == 0 ? 0 : rng.nextInt(2 * cropPadding + 1) - cropPadding;
        boolean flip = horizontalFlip && rng.nextBoolean();
        float[] src = image.pixels(), out = new float[src.length]; // (h, w, 3)
        for (int y = 0; y < h; y++) {
            int sy = Math.min(h - 1, Math.max(0, y + dy));
            for (int x = 0; x < w; x++) {
                int sx = Math.min(w - 1, Math.max(0, (flip ? w - 1 - x : x) + dx));
                System.arraycopy(src, (sy * w + sx) * 3, out, (y * w + x) * 3, 3);
            }
        }
        return new RgbImage(h, w, out);
    }
}
