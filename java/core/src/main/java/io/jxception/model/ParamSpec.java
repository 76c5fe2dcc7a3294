package io.jxception.model;

import io.jxception.tensor.Shape;

/**
 * One weight tensor in its Keras layout, e.g. {@code block2_sepconv1/pointwise_kernel} (1,1,64,128).
 *
 * <p>Immutable.
 *
 * @param layer     Keras layer name; generated names (conv2d, batch_normalization_1, ...) are flagged
 * @param weight    Keras weight name without the ":0" suffix (kernel, depthwise_kernel, gamma, moving_mean, ...)
 * @param generated the layer has no explicit name in keras/src/applications/xception.py
 */
public record ParamSpec(String layer, String weight, Shape shape, boolean trainable, boolean generated) {
    /** The key "layer/weight" under which weights files and {@code XceptionWeights} hold it. */
    public String key() { return layer + "/" + weight; }

    /** The number of values. */
    public long elements() { return shape.elements(); }
}
