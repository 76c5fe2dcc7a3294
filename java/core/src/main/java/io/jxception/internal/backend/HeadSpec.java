package io.jxception.internal.backend;

import io.jxception.model.Pooling;

/**
 * The network head over x (n, h, w, channels). With {@code dense}: global average pool, dense
 * (channels → classes, kernel (channels, classes) + bias (classes)), softmax → (n, classes).
 * Without: global AVG or MAX pool → (n, channels).
 */
public record HeadSpec(int n, int h, int w, int channels, Pooling pooling, boolean dense, int classes) {
    public long outputElements() { return (long) n * (dense ? classes : channels); }
}
