package io.jxception.model;

/** The three convolution shapes Xception uses; each is followed by batch norm. Immutable. */
public enum ConvKind {
    /** Stem: full 3×3 convolution, 'valid' padding. Weight (3,3,Cin,Cout). */
    CONV3X3_VALID,
    /** SeparableConv2D: depthwise 3×3 'same' stride 1, weight (3,3,Cin,1), then pointwise (1,1,Cin,Cout). */
    SEPARABLE3X3_SAME,
    /** Residual branch: 1×1 convolution, 'same' padding, stride 2. Weight (1,1,Cin,Cout). */
    CONV1X1_SAME
}
