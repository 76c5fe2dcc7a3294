package io.jxception.internal.backend.opencl;

import io.jxception.internal.backend.Buffer;

/** A cl_mem of {@code elements} fp32 values, owned by one {@link OpenClBackend}. */
final class ClBuffer implements Buffer {
    private final OpenClBackend owner;
    private final long elements;
    private long mem; // cl_mem of (elements) fp32, the caller's shape flattened; 0 once released

    ClBuffer(OpenClBackend owner, long mem, long elements) {
        this.owner = owner;
        this.mem = mem;
        this.elements = elements;
    }

    @Override
    public long elements() { return elements; }

    long bytes() { return elements * Float.BYTES; }

    OpenClBackend owner() { return owner; }

    /** The cl_mem handle; throws if the buffer was closed. */
    long mem() {
        if (mem == 0) throw new IllegalStateException("OpenCL buffer of " + elements + " floats used after close()");
        return mem;
    }

    boolean isOpen() { return mem != 0; }

    /** Called by the owner, which releases the cl_mem. */
    long detach() {
        long m = mem;
        mem = 0;
        return m;
    }

    @Override
    public void close() { owner.free(this); }

    @Override
    public String toString() { return "ClBuffer(" + elements + " floats)"; }
}
