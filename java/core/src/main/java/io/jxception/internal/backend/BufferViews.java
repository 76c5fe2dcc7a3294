package io.jxception.internal.backend;

/**
 * Optional capability of a {@link Backend} that can carve many buffers out of one device
 * allocation. A session sizes its whole working set (weights and the activation slots of its
 * liveness plan) up front and takes it as one block: one allocation call, no fragmentation between
 * sessions, and all of it freed at once.
 */
public interface BufferViews {
    /** One allocation and the buffers carved from it. */
    interface Block extends AutoCloseable {
        /** views()[i] holds sizes[i] elements; closing a view alone frees nothing. */
        Buffer[] views();

        /** Frees the allocation; every view is closed with it. */
        @Override
        void close();
    }

    /** Allocates one block holding a buffer of {@code sizes[i]} elements for each i (each at least 1). */
    Block allocateBlock(long[] sizes);
}
