package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.Buffer;
import jcuda.driver.CUdeviceptr;

/**
 * Device memory for {@link #elements()} logical floats: always 4 bytes per element of capacity, so
 * that it can hold fp32 (what the host uploads), 16-bit activations (what the kernels write in
 * BF16/FP16 mode) or raw uint8 pixels (uploadUint8). {@link #storage()} says which the bytes hold now; kernels set it on their outputs.
 */
public final class CudaBuffer implements Buffer {
    /** What the bytes of a buffer currently hold. */
    public enum Storage {
        EMPTY(0, null), F32(4, "f32"), BF16(2, "bf16"), F16(2, "f16"),
        /** Raw 8-bit pixels (uploadUint8): read only by convUint8, one byte per element. */
        U8(1, "u8");

        final int bytes;
        final String suffix;

        Storage(int bytes, String suffix) {
            this.bytes = bytes;
            this.suffix = suffix;
        }
    }

    private final CudaBackend owner;
    final CUdeviceptr ptr;         // (elements) floats of capacity
    private final long elements;
    final long arenaOffset;        // -1: own cuMemAlloc (or a view)
    final CudaBuffer parent;       // the block this is a view of (BufferViews), or null
    Storage storage = Storage.EMPTY;
    private boolean closed;

    CudaBuffer(CudaBackend owner, CUdeviceptr ptr, long elements, long arenaOffset) {
        this(owner, ptr, elements, arenaOffset, null);
    }

    CudaBuffer(CudaBackend owner, CUdeviceptr ptr, long elements, long arenaOffset, CudaBuffer parent) {
        this.owner = owner;
        this.ptr = ptr;
        this.elements = elements;
        this.arenaOffset = arenaOffset;
        this.parent = parent;
    }

    @Override public long elements() { return elements; }

    public long capacityBytes() { return 4 * elements; }

    public Storage storage() { return storage; }

    CudaBackend owner() { return owner; }

    boolean isClosed() { return closed || (parent != null && parent.isClosed()); }

    @Override public void close() {
        if (closed) return;
        closed = true;
        if (parent == null) owner.release(this);   // a view's memory goes with its block
    }

    @Override public String toString() { return "CudaBuffer[" + elements + " elements, " + storage + (closed ? ", closed" : "") + "]"; }
}
