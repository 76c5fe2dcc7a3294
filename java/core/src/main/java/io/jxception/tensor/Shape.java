package io.jxception.tensor;

import java.util.Arrays;

/**
 * An immutable tensor shape; activations are NHWC, weights keep their Keras layouts.
 *
 * <p>Immutable.
 *
 * @param dims the dimensions, outermost first (copied; never negative)
 */
public record Shape(int... dims) {
    /** @throws IllegalArgumentException for a negative dimension */
    public Shape {
        dims = dims.clone();
        for (int d : dims) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(dims));
        }
    }

    /** The shape with these dimensions, outermost first. */
    public static Shape of(int... dims) { return new Shape(dims); }

    /** The number of dimensions. */
    public int rank() { return dims.length; }

    /** Dimension {@code i} (0 is the outermost). */
    public int dim(int i) { return dims[i]; }

    /** Number of elements; throws if it does not fit in a Java array. */
    public int size() {
        long n = elements();
        if (n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("shape " + this + " has " + n + " elements, too many for one array");
        return (int) n;
    }

    /** Number of elements as a long (no overflow below 2^63; throws ArithmeticException above). */
    public long elements() {
        long n = 1;
        for (int d : dims) n = Math.multiplyExact(n, d);
        return n;
    }

    /** A copy of the dimensions. */
    @Override public int[] dims() { return dims.clone(); }

    @Override public boolean equals(Object o) { return o instanceof Shape s && Arrays.equals(dims, s.dims); }

    @Override public int hashCode() { return Arrays.hashCode(dims); }

    @Override public String toString() {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < dims.length; i++) sb.append(i == 0 ? "" : ",").append(dims[i]);
        return sb.append(dims.length == 1 ? ",)" : ")").toString();
    }
}
