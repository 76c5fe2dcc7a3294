package io.jxception.tensor;

import java.util.Arrays;

/** An immutable tensor shape; activations are NHWC, weights keep their Keras layouts. */
public record Shape(int... dims) {
    public Shape {
        dims = dims.clone();
        for (int d : dims) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(dims));
        }
    }

    public static Shape of(int... dims) { return new Shape(dims); }

    public int rank() { return dims.length; }

    public int dim(int i) { return dims[i]; }

    /** Number of elements; throws if it does not fit in a Java array. */
    public int size() {
        long n = elements();
        if (n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("shape " + this + " has " + n + " elements, too many for one array");
        return (int) n;
    }

    public long elements() {
        long n = 1;
        for (int d : dims) n = Math.multiplyExact(n, d);
        return n;
    }

    @Override public int[] dims() { return dims.clone(); }

    @Override public boolean equals(Object o) { return o instanceof Shape s && Arrays.equals(dims, s.dims); }

    @Override public int hashCode() { return Arrays.hashCode(dims); }

    @Override public String toString() {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < dims.length; i++) sb.append(i == 0 ? "" : ",").append(dims[i]);
        return sb.append(dims.length == 1 ? ",)" : ")").toString();
    }
}
