package io.jxception.model;

/** One fused step of the network; value ids index {@link XceptionGraph#values()}. Every node is an immutable record. */
public sealed interface Node permits Node.Conv, Node.MaxPoolAdd, Node.Head {
    /** The Keras name of the node's (first) layer. */
    String name();

    /** The value this node reads. */
    int input();

    /** The value this node writes. */
    int output();

    /**
     * y = postRelu?( BN( conv( preRelu? relu(x) : x ) ) + residual ).
     * {@code layer} names the conv/separable-conv layer, {@code bnLayer} its BatchNormalization;
     * {@code residual} is -1 when there is no residual add in the epilogue.
     */
    record Conv(String name, String bnLayer, ConvKind kind, int stride, boolean preRelu, boolean postRelu,
                int cin, int cout, int input, int residual, int output) implements Node {}

    /** y = maxpool3x3s2same(x) + residual (blocks 2, 3, 4, 13). */
    record MaxPoolAdd(String name, int input, int residual, int output) implements Node {}

    /**
     * The end of the network: with {@code dense}, softmax(dense(avgpool(x))) → (N, classes) ("predictions");
     * without, global pooling (AVG/MAX) → (N, C); with Pooling.NONE and no dense there is no head node.
     */
    record Head(String name, Pooling pooling, boolean dense, int channels, int classes, int input, int output) implements Node {}

    /** This node as a {@link Conv} (a ClassCastException for other nodes). */
    default Conv asConv() { return (Conv) this; }
}
