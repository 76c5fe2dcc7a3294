package io.jxception.model;

/** Keras {@code pooling} argument for feature extraction without the top. Immutable. */
public enum Pooling {
    /** No pooling: the output is the last (N, h, w, 2048) feature map. */
    NONE,
    /** GlobalAveragePooling2D → (N, 2048). */
    AVG,
    /** GlobalMaxPooling2D → (N, 2048). */
    MAX
}
