package io.jxception.train;

/**
 * Random changes applied to training images after they are resized to the input size (never to
 * validation images). Immutable.
 *
 * @param cropPadding    random crop: the image is padded by this many pixels on every side (edge
 *                       pixels replicated) and an input-sized window is cut at a random offset, i.e. a
 *                       random shift of up to ±cropPadding pixels at unchanged scale; 0 = off
 * @param horizontalFlip mirror left-right with probability ½ (wrong for digits and text)
 */
public record Augmentation(int cropPadding, boolean horizontalFlip) {
    /** No augmentation. */
    public static final Augmentation NONE = new Augmentation(0, false);

    /** @throws IllegalArgumentException for crop padding outside [0, 64] */
    public Augmentation {
        if (cropPadding < 0 || cropPadding > 64) throw new IllegalArgumentException("crop padding must be in [0, 64] pixels, got " + cropPadding);
    }

    /** Whether this changes nothing. */
    public boolean isNone() { return cropPadding == 0 && !horizontalFlip; }
}
