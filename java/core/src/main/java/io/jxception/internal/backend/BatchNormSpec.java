package io.jxception.internal.backend;

/**
 * Batch norm in training mode over {@code rows} = N·H·W rows of {@code channels} (NHWC flattened).
 * Keras semantics: batch mean and biased batch variance normalize; the moving statistics update as
 * moving = moving·momentum + batch·(1 − momentum) with the biased variance (Keras 3).
 */
public record BatchNormSpec(long rows, int channels, double epsilon, double momentum, boolean relu, boolean residual) {
    public static final double KERAS_EPSILON = 1e-3;
    public static final double KERAS_MOMENTUM = 0.99;

    public long elements() { return rows * channels; }
}
