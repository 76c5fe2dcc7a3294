package io.jxception.model;

/**
 * Everything that decides the network's shape. {@link #imagenet()} is Keras'
 * {@code Xception(weights='imagenet')}: 299×299×3 in, 1000 classes, with the top.
 *
 * <p>Immutable; safe to share between threads.
 *
 * @param inputHeight    input rows, at least 71 (Keras' minimum), at most {@link #MAX_INPUT}
 * @param inputWidth     input columns, at least 71
 * @param classes        outputs of the dense layer when {@code includeTop}
 * @param includeTop     global average pool + dense + softmax at the end
 * @param pooling        pooling of the last feature map when not {@code includeTop}
 * @param widthMultiplier scales every channel count (1.0 = Keras); small values make test networks
 * @param middleRepeats  number of middle-flow blocks (8 in Keras)
 */
public record XceptionConfig(int inputHeight, int inputWidth, int classes, boolean includeTop, Pooling pooling,
                             double widthMultiplier, int middleRepeats) {
    /** The smallest input height and width Keras' Xception accepts. */
    public static final int MIN_INPUT = 71;
    /**
     * Largest input side: one 8192×8192 image already holds 1.07·10⁹ values in block1_conv2's output
     * (64 channels at 4095×4095); larger sides overflow the 32-bit element counts of one image.
     */
    public static final int MAX_INPUT = 8192;

    /** @throws IllegalArgumentException for a size below {@link #MIN_INPUT}, no classes with the top, or a width or depth out of range */
    public XceptionConfig {
        if (inputHeight < MIN_INPUT || inputWidth < MIN_INPUT) {
            throw new IllegalArgumentException("input size " + inputHeight + "x" + inputWidth + " is too small: Xception needs at least " + MIN_INPUT + "x" + MIN_INPUT);
        }
        if (inputHeight > MAX_INPUT || inputWidth > MAX_INPUT) {
            throw new IllegalArgumentException("input size " + inputHeight + "x" + inputWidth + " is too large: at most " + MAX_INPUT + "x" + MAX_INPUT);
        }
        if (includeTop && classes < 1) throw new IllegalArgumentException("classes must be at least 1 with the top, got " + classes);
        if (!(widthMultiplier > 0) || widthMultiplier > 8) throw new IllegalArgumentException("widthMultiplier must be in (0, 8], got " + widthMultiplier);
        // Keras names the exit block "block13", so more than 8 middle blocks would collide with it.
        if (middleRepeats < 0 || middleRepeats > 8) throw new IllegalArgumentException("middleRepeats must be in [0, 8] (Keras has 8), got " + middleRepeats);
        if (pooling == null) pooling = Pooling.NONE;
    }

    /** Keras' {@code Xception(weights='imagenet')}: 299×299, 1000 classes, with the top, full width, 8 middle blocks. */
    public static XceptionConfig imagenet() {
        return new XceptionConfig(299, 299, 1000, true, Pooling.NONE, 1.0, 8);
    }

    /** A structurally identical small network for tests: width/16, 71×71, the given classes. */
    public static XceptionConfig tiny(int size, int classes) {
        return new XceptionConfig(size, size, classes, true, Pooling.NONE, 1.0 / 16, 8);
    }

    /** This network at another input size (the weights stay the same). */
    public XceptionConfig withInputSize(int h, int w) {
        return new XceptionConfig(h, w, classes, includeTop, pooling, widthMultiplier, middleRepeats);
    }

    /** This network without the classifier, ending in {@code p} pooling: (N, C) features with AVG or MAX, the last feature map with NONE. */
    public XceptionConfig withoutTop(Pooling p) {
        return new XceptionConfig(inputHeight, inputWidth, classes, false, p, widthMultiplier, middleRepeats);
    }

    /** This network with a classifier of {@code c} classes. */
    public XceptionConfig withClasses(int c) {
        return new XceptionConfig(inputHeight, inputWidth, c, includeTop, pooling, widthMultiplier, middleRepeats);
    }

    /** A Keras channel count scaled by the width multiplier (at least 1). */
    public int channels(int kerasChannels) {
        return Math.max(1, (int) Math.round(kerasChannels * widthMultiplier));
    }

    /** Channels of the last feature map (2048 at full width). */
    public int featureChannels() { return channels(2048); }
}
