package io.jxception.model;

/** One activation tensor of the graph, (N, h, w, c) NHWC; {@code id} indexes {@link XceptionGraph#values()}. Immutable. */
public record Value(int id, String name, int h, int w, int c) {
    /** h·w·c: the values of one image. */
    public long elementsPerImage() { return (long) h * w * c; }
}
