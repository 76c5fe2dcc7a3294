package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.Buffer;
import jcuda.driver.CUdeviceptr;

/**
 * Device memory for {@link #elements()} logical floats: 4 bytes per element of capacity, so that it
 * can hold fp32 (what the host uploads), 16-bit activations (what the kernels write in BF16/FP16
 * mode) or raw uint8 pixels (uploadUint8); or, for a {@link #compact()} buffer
 * ({@code allocateActivations} in BF16/FP16 mode), 2 bytes per element that only ever hold the
 * 16-bit activation storage (or pixels). {@link #storage()} says which the bytes hold now; kernels
 * set it on their outputs.
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
    final Storage compact;         // BF16/F16: 2 bytes per element, never anything wider; null: 4 bytes per element
    Storage storage = Storage.EMPTY;
    private boolean closed;

    CudaBuffer(CudaBackend owner, CUdeviceptr ptr, long elements, long arenaOffset, CudaBuffer parent) {
        this(owner, ptr, elements, arenaOffset, parent, null);
    }

    CudaBuffer(CudaBackend owner, CUdeviceptr ptr, long elements, long arenaOffset, CudaBuffer parent, Storage compact) {
        if (compact != null && compact.bytes != 2) throw new IllegalArgumentException("a compact buffer holds a 16-bit storage, not " + compact);
        this.owner = owner;
        this.ptr = ptr;
        this.elements = elements;
        this.arenaOffset = arenaOffset;
        this.parent = parent;
        this.compact = compact;
    }

    @Override public long elements() { return elements; }

    public long capacityBytes() { return (compact == null ? 4 : 2) * elements; }

    /** The 16-bit storage this buffer is limited to (2 bytes per element), or null: 4 bytes per element, any storage. */
    public Storage compact() { return compact; }

    /** Whether {@code s} fits this buffer's bytes: anything in a 4-byte buffer; a compact one only its own storage or pixels. */
    boolean holds(Storage s) { return compact == null || s == compact || s == Storage.U8 || s == Storage.EMPTY; }

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
