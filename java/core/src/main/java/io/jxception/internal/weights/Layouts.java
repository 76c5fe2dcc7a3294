package io.jxception.internal.weights;

import io.jxception.tensor.Shape;

/** Axis permutations between PyTorch and Keras weight layouts. */
public final class Layouts {
    /** (O,I,kh,kw) → (kh,kw,I,O): full and pointwise conv kernels. */
    public static final int[] OIHW_TO_HWIO = {2, 3, 1, 0};
    /** (C,1,kh,kw) → (kh,kw,C,1): depthwise kernels. */
    static final int[] DEPTHWISE_TO_KERAS = {2, 3, 0, 1};
    /** (classes,features) → (features,classes): dense kernels. */
    static final int[] TRANSPOSE_2D = {1, 0};

    private Layouts() {}

    /** out.shape[i] = in.shape[axes[i]], as numpy's transpose(axes). */
    public static Shape permute(Shape in, int[] axes) {
        int[] d = new int[axes.length];
        for (int i = 0; i < axes.length; i++) d[i] = in.dim(axes[i]);
        return Shape.of(d);
    }

    /** Row-major data of shape {@code in} → row-major data of {@code permute(in, axes)}. */
    public static float[] permute(float[] data, Shape in, int[] axes) {
        int rank = in.rank();
        if (axes.length != rank) throw new IllegalArgumentException("permutation of " + axes.length + " axes for shape " + in);
        int[] inStride = new int[rank];
        for (int i = rank - 1, s = 1; i >= 0; i--) {
            inStride[i] = s;
            s *= in.dim(i);
        }
        Shape outShape = permute(in, axes);
        int[] step = new int[rank]; // input stride along each output axis
        for (int i = 0; i < rank; i++) step[i] = inStride[axes[i]];
        float[] out = new float[data.length];
        int[] index = new int[rank];
        int src = 0;
        for (int o = 0; o < out.length; o++) {
            out[o] = data[src];
            for (int i = rank - 1; i >= 0; i--) { // odometer over the output index, last axis fastest
                index[i]++;
                src += step[i];
                if (index[i] < outShape.dim(i)) break;
                src -= step[i] * index[i];
                index[i] = 0;
            }
        }
        return out;
    }
}
