package io.jxception.internal.train;

import io.jxception.tensor.Tensor;

/**
 * Decoded, preprocessed images and their labels.
 *
 * @param index  position of the batch within its epoch (or validation pass)
 * @param images (n, H, W, 3) NHWC, x/127.5 − 1
 * @param labels (n) class indices
 */
public record Batch(int index, Tensor images, int[] labels) {
    public int size() { return labels.length; }
}
