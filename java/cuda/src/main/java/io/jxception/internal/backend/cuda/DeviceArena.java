package io.jxception.internal.backend.cuda;

import java.util.Map;
import java.util.TreeMap;

/**
 * First-fit allocator over one large device allocation, in byte offsets (pure bookkeeping: the
 * backend owns the memory). Blocks are aligned to {@link #ALIGN} bytes; freed neighbours merge.
 * With an arena, allocate/free never call the driver, so buffers can come and go between CUDA graph
 * captures and the executor's liveness-planned buffers land in one contiguous region.
 */
public final class DeviceArena {
    /** Alignment of every block: 256 bytes, as cuMemAlloc gives and 16-byte vector loads need. */
    public static final long ALIGN = 256;

    private final long capacity;
    private final TreeMap<Long, Long> free = new TreeMap<>();   // offset -> size
    private final TreeMap<Long, Long> used = new TreeMap<>();   // offset -> size
    private long usedBytes;

    public DeviceArena(long capacity) {
        if (capacity < ALIGN) throw new IllegalArgumentException("arena of " + capacity + " bytes is too small");
        this.capacity = capacity / ALIGN * ALIGN;
        free.put(0L, this.capacity);
    }

    public long capacity() { return capacity; }

    public long usedBytes() { return usedBytes; }

    /** Offset of a new block of at least {@code bytes}, or -1 when no free block is large enough. */
    public long allocate(long bytes) {
        if (bytes <= 0) throw new IllegalArgumentException("allocation of " + bytes + " bytes");
        long size = (bytes + ALIGN - 1) / ALIGN * ALIGN;
        for (Map.Entry<Long, Long> e : free.entrySet()) {
            if (e.getValue() >= size) {
                long off = e.getKey();
                free.remove(off);
                if (e.getValue() > size) free.put(off + size, e.getValue() - size);
                used.put(off, size);
                usedBytes += size;
                return off;
            }
        }
        return -1;
    }

    public void free(long offset) {
        Long size = used.remove(offset);
        if (size == null) throw new IllegalArgumentException("offset " + offset + " is not an allocated block of this arena");
        usedBytes -= size;
        long start = offset, end = offset + size;
        Map.Entry<Long, Long> before = free.floorEntry(start);
        if (before != null && before.getKey() + before.getValue() == start) {
            start = before.getKey();
            free.remove(before.getKey());
        }
        Long afterSize = free.get(end);
        if (afterSize != null) {
            free.remove(end);
            end += afterSize;
        }
        free.put(start, end - start);
    }

    /** Largest single block that {@link #allocate} could return now. */
    public long largestFree() {
        long m = 0;
        for (long s : free.values()) m = Math.max(m, s);
        return m;
    }
}
