package io.jxception.internal.exec;

import io.jxception.internal.backend.BatchNormSpec;
import io.jxception.model.ConvKind;
import io.jxception.model.Node;
import io.jxception.weights.XceptionWeights;

/**
 * A conv node's weights ready for inference: kernels as the backends take them (Keras layouts,
 * whose memory order already is (3,3,Cin,Cout), depthwise (3,3,C), pointwise (Cin,Cout)) and batch
 * norm folded into scale (C) and shift (C), computed in float64.
 */
record FoldedConv(float[] w1, float[] w2, float[] scale, float[] shift) {
    static FoldedConv of(Node.Conv c, XceptionWeights w) {
        float[] w1, w2 = null;
        if (c.kind() == ConvKind.SEPARABLE3X3_SAME) {
            w1 = w.get(c.name(), "depthwise_kernel").data();
            w2 = w.get(c.name(), "pointwise_kernel").data();
        } else {
            w1 = w.get(c.name(), "kernel").data();
        }
        float[] gamma = w.get(c.bnLayer(), "gamma").data();
        float[] beta = w.get(c.bnLayer(), "beta").data();
        float[] mean = w.get(c.bnLayer(), "moving_mean").data();
        float[] var = w.get(c.bnLayer(), "moving_variance").data();
        float[] scale = new float[gamma.length], shift = new float[gamma.length];
        for (int k = 0; k < gamma.length; k++) {
            double s = gamma[k] / Math.sqrt((double) var[k] + BatchNormSpec.KERAS_EPSILON);
            scale[k] = (float) s;
            shift[k] = (float) (beta[k] - mean[k] * s);
        }
        return new FoldedConv(w1, w2, scale, shift);
    }
}
