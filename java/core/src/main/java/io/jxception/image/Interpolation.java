package io.jxception.image;

import java.util.Locale;

/**
 * How an image is resized to the network's input size. Both reproduce Pillow's {@code Image.resize},
 * which Keras' {@code keras.utils.load_img(path, target_size=..., interpolation=...)} calls after
 * converting to RGB, so jxception sees the same pixels as a Keras pipeline (decoders aside: Java's
 * JPEG decoder may differ from libjpeg by ±1 per value). Immutable; safe to share between threads.
 */
public enum Interpolation {
    /**
     * Keras' default ({@code interpolation='nearest'}): output pixel x takes source pixel
     * floor((x + 0.5) · in/out), with Pillow's incremental coordinate arithmetic. Fast, but aliases
     * when shrinking a large photo.
     */
    NEAREST,
    /**
     * Pillow's {@code BILINEAR} ({@code interpolation='bilinear'} in Keras): a triangle filter whose
     * support widens with the shrink factor, so downscaling averages every source pixel (antialiased),
     * unlike TensorFlow's {@code tf.image.resize} without antialias. Horizontal pass, then vertical,
     * each rounded to 8 bits with Pillow's 22-bit fixed-point coefficients, so results match exactly.
     */
    BILINEAR;

    /**
     * The interpolation named {@code s} ("nearest" or "bilinear", any case).
     *
     * @throws IllegalArgumentException for any other name, saying which names exist
     */
    public static Interpolation parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown interpolation '" + s + "': expected nearest or bilinear");
        }
    }
}
