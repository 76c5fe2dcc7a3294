package io.jxception.train;

import io.jxception.image.RgbImage;

/**
 * Random changes applied to training images after they are resized to the input size (never to
 * validation images).
 *
 * @param cropPadding    random crop: the image is padded by this many pixels on every side (edge
 *                       pixels replicated) and an input-sized window is cut at a random offset, i.e. a
 *                       random shift of up to ±cropPadding pixels at unchanged scale; 0 = off
 * @param horizontalFlip mirror left-right with probability ½ (wrong for digits and text)
 */
public record Augmentation(int cropPadding, boolean horizontalFlip) {
    public static final Augmentation NONE = new Augmentation(0, false);

    public Augmentation {
        if (cropPadding < 0 || cropPadding > 64) throw new IllegalArgumentException("crop padding must be in [0, 64] pixels, got " + cropPadding);
    }

    public boolean isNone() { return cropPadding == 0 && !horizontalFlip; }

    /** The augmented image, drawing the offsets and the flip from {@code rng} (always the same draws for one rng state). */
    public RgbImage apply(RgbImage image, Rng rng) {
        if (isNone()) return image;
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
