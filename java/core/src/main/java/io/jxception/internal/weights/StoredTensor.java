package io.jxception.internal.weights;

import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;

import java.io.IOException;

/**
 * One weight as a file holds it, already in its Keras name and layout, values read on demand:
 * matching and configuration inference look at names and shapes only.
 *
 * @param layer  Keras layer name as the file has it (generated names keep the file's numbering, e.g. conv2d_5)
 * @param weight Keras weight name without layer and ":0" (kernel, depthwise_kernel, gamma, moving_mean, ...)
 * @param source where the values are in the file, for messages ("block1_conv1/block1_conv1/kernel:0", "conv1.weight")
 * @param shape  Keras layout (kh,kw,cin,cout), (3,3,C,1), (1,1,cin,cout), (C,), (features,classes)
 */
public record StoredTensor(String layer, String weight, String source, Shape shape, ValuesReader reader) {
    /** Reads the values, row-major in {@link #shape()}, as float32. */
    public interface ValuesReader {
        float[] read() throws IOException;
    }

    public Tensor read() throws IOException {
        float[] values = reader.read();
        if (values.length != shape.elements()) {
            throw new IOException(source + " holds " + values.length + " values, its shape " + shape + " needs " + shape.elements());
        }
        return new Tensor(shape, values);
    }
}
