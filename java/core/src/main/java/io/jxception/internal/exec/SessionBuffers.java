package io.jxception.internal.exec;

import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.BufferViews;

import java.util.ArrayList;
import java.util.List;

/** The device buffers one session owns; closing frees them in reverse order of allocation. */
final class SessionBuffers implements AutoCloseable {
    private final KernelBackend backend;
    private final List<AutoCloseable> owned = new ArrayList<>();   // Buffers and BufferViews.Blocks

    SessionBuffers(KernelBackend backend) { this.backend = backend; }

    /** Uninitialised device memory for {@code elements} floats. */
    Buffer alloc(long elements) {
        Buffer b = backend.allocate(elements);
        owned.add(b);
        return b;
    }

    /** {@link KernelBackend#allocateActivations}: activations and their gradients only (may be 16-bit). */
    Buffer allocActivations(long elements) {
        Buffer b = backend.allocateActivations(elements);
        owned.add(b);
        return b;
    }

    /**
     * Uninitialised buffers of {@code sizes[i]} elements: views of one device allocation where the
     * backend can carve one ({@link BufferViews}), else one allocation each.
     */
    Buffer[] allocAll(long[] sizes) {
        if (backend instanceof BufferViews views) {
            BufferViews.Block block = views.allocateBlock(sizes);
            owned.add(block);
            return block.views();
        }
        Buffer[] out = new Buffer[sizes.length];
        for (int i = 0; i < sizes.length; i++) out[i] = alloc(sizes[i]);
        return out;
    }

    /** A new buffer holding a copy of {@code data}. */
    Buffer upload(float[] data) {
        Buffer b = alloc(data.length);
        backend.upload(data, b);
        return b;
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception e) {
                if (first == null) first = e instanceof RuntimeException r ? r : new IllegalStateException(e);
            }
        }
        owned.clear();
        if (first != null) throw first;
    }
}
