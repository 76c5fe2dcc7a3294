package io.jxception.exec;

import io.jxception.backend.Backend;
import io.jxception.backend.Buffer;

import java.util.ArrayList;
import java.util.List;

/** The device buffers one session owns; closing frees them in reverse order of allocation. */
final class SessionBuffers implements AutoCloseable {
    private final Backend backend;
    private final List<Buffer> owned = new ArrayList<>();

    SessionBuffers(Backend backend) { this.backend = backend; }

    /** Uninitialised device memory for {@code elements} floats. */
    Buffer alloc(long elements) {
        Buffer b = backend.allocate(elements);
        owned.add(b);
        return b;
    }

    /** A new buffer holding a copy of {@code data}. */
    Buffer upload(float[] data) {
        Buffer b = alloc(data.length);
        backend.upload(data, b);
        return b;
    }

    @Override
    public void close() {
        for (int i = owned.size() - 1; i >= 0; i--) owned.get(i).close();
        owned.clear();
    }
}
