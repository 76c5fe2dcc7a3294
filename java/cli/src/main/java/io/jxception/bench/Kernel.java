package io.jxception.bench;

import io.jxception.model.ConvKind;
import io.jxception.model.Node;

/** The fused kernels of DESIGN.md, named as in cuda/ and opencl/; every graph node is one launch of one. */
public enum Kernel {
    /** Stem: conv 3×3 'valid' + BN + ReLU. */
    CONV_BN_RELU("conv_bn_relu"),
    /** y = BN(PW(DW(relu?(x)))) (+ residual) (relu?). */
    SEPCONV_BN("sepconv_bn"),
    /** Residual branch: conv 1×1 stride 2 + BN. */
    CONV1X1S2_BN("conv1x1s2_bn"),
    /** maxpool 3×3/2 'same' + residual add. */
    MAXPOOL_ADD("maxpool_add"),
    /** Global average pool + dense + softmax, or global pooling alone without the top. */
    HEAD("gap_dense_softmax");

    private final String kernelName;

    Kernel(String kernelName) { this.kernelName = kernelName; }

    public String kernelName() { return kernelName; }

    public static Kernel of(Node node) {
        if (node instanceof Node.Conv c) {
            return c.kind() == ConvKind.CONV3X3_VALID ? CONV_BN_RELU : c.kind() == ConvKind.SEPARABLE3X3_SAME ? SEPCONV_BN : CONV1X1S2_BN;
        }
        return node instanceof Node.MaxPoolAdd ? MAXPOOL_ADD : HEAD;
    }
}
