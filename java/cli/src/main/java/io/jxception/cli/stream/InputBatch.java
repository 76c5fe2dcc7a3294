package io.jxception.cli.stream;

import io.jxception.tensor.Tensor;
import io.jxception.tensor.Uint8Tensor;

import java.util.List;

/**
 * One batch on its way to a device: its position in the run ({@code index}: 0, 1, 2, ... in input
 * order), the output row of its first image ({@code firstRow}; rows skip nothing the output keeps),
 * the images as float32 (preprocessed) or raw uint8 pixels (exactly one of the two), and each
 * image's name for outputs that carry names (file names, or "x.npy[17]").
 */
public record InputBatch(long index, long firstRow, Tensor floats, Uint8Tensor pixels, List<String> names) {
    public InputBatch {
        if ((floats == null) == (pixels == null)) throw new IllegalArgumentException("a batch holds float32 images or uint8 pixels, exactly one");
        int n = floats != null ? floats.shape().dim(0) : pixels.shape().dim(0);
        if (names.size() != n) throw new IllegalArgumentException(names.size() + " names for " + n + " images");
    }

    /** Images in the batch. */
    public int size() { return names.size(); }
}
