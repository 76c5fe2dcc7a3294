package io.jxception.internal.backend;

import io.jxception.model.ConvKind;
import io.jxception.model.Padding;

/**
 * Geometry of one convolution launch over an NHWC batch.
 * Input x (n, h, w, cin); output (n, outH, outW, cout).
 * Weights by kind: CONV3X3_VALID w1 = (3,3,cin,cout); SEPARABLE3X3_SAME w1 = depthwise (3,3,cin) and
 * w2 = pointwise (cin,cout); CONV1X1_SAME w1 = (cin,cout). All in Keras layouts (row-major, last dim fastest).
 */
public record ConvSpec(ConvKind kind, int n, int h, int w, int cin, int cout, int stride, boolean preRelu) {
    public ConvSpec {
        if (n < 1 || h < 1 || w < 1 || cin < 1 || cout < 1) throw new IllegalArgumentException("bad conv geometry " + n + "x" + h + "x" + w + "x" + cin + "->" + cout);
        if (stride < 1) throw new IllegalArgumentException("stride must be >= 1");
        if (kind == ConvKind.SEPARABLE3X3_SAME && stride != 1) throw new IllegalArgumentException("separable convs are stride 1 in Xception");
        if (kind == ConvKind.CONV3X3_VALID && (h < 3 || w < 3)) throw new IllegalArgumentException("3x3 valid conv needs at least 3x3 input, got " + h + "x" + w);
    }

    public int outH() {
        return switch (kind) {
            case CONV3X3_VALID -> (h - 3) / stride + 1;
            case CONV1X1_SAME -> Padding.sameOutput(h, stride);
            case SEPARABLE3X3_SAME -> h;
        };
    }

    public int outW() {
        return switch (kind) {
            case CONV3X3_VALID -> (w - 3) / stride + 1;
            case CONV1X1_SAME -> Padding.sameOutput(w, stride);
            case SEPARABLE3X3_SAME -> w;
        };
    }

    public long inputElements() { return (long) n * h * w * cin; }

    public long outputElements() { return (long) n * outH() * outW() * cout; }

    /** Elements of w1: (3,3,cin,cout), depthwise (3,3,cin) or (cin,cout). */
    public long w1Elements() {
        return switch (kind) {
            case CONV3X3_VALID -> 9L * cin * cout;
            case SEPARABLE3X3_SAME -> 9L * cin;
            case CONV1X1_SAME -> (long) cin * cout;
        };
    }

    /** Elements of w2: pointwise (cin,cout) for separable convs, else 0. */
    public long w2Elements() { return kind == ConvKind.SEPARABLE3X3_SAME ? (long) cin * cout : 0; }

    /** Multiply-adds of the launch (depthwise plus pointwise for separable convs). */
    public long macs() {
        long pixels = (long) n * outH() * outW();
        return switch (kind) {
            case CONV3X3_VALID -> pixels * 9L * cin * cout;
            case SEPARABLE3X3_SAME -> pixels * (9L * cin + (long) cin * cout);
            case CONV1X1_SAME -> pixels * cin * cout;
        };
    }
}
