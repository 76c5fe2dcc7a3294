package io.jxception.internal.distributed;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Objects;

/** The argument checks every communicator makes before a collective, so each implementation fails alike. */
public final class CollectiveArguments {
    private CollectiveArguments() {}

    /** {@code [offset, offset + count)} lies within an array of {@code length}. */
    public static void range(int length, int offset, int count) {
        Objects.checkFromIndexSize(offset, count, length);
    }

    /** {@code root} is a rank of a communicator of {@code size}. */
    public static void root(int root, int size) {
        if (root < 0 || root >= size) throw new IllegalArgumentException("root " + root + " is not a rank of this communicator (ranks 0.." + (size - 1) + ")");
    }

    /** {@code data} can be handed to native code as it is: direct, in the platform's byte order. */
    public static void direct(FloatBuffer data) {
        Objects.requireNonNull(data, "data");
        if (!data.isDirect()) {
            throw new IllegalArgumentException("the FloatBuffer is not direct: pass a float[] for heap data, or allocate it with "
                    + "ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder()).asFloatBuffer()");
        }
        if (data.order() != ByteOrder.nativeOrder()) {
            throw new IllegalArgumentException("the FloatBuffer is " + data.order() + " but MPI reads floats in the platform's order ("
                    + ByteOrder.nativeOrder() + "): create its view after .order(ByteOrder.nativeOrder())");
        }
    }
}
