package io.jxception.internal.backend.cpu;

import io.jxception.internal.backend.Buffer;

/**
 * A {@link CpuBackend} buffer: float64 storage on the Java heap (the reference computes in float64;
 * upload and download convert from and to float32). Closing drops the storage.
 */
final class CpuBuffer implements Buffer {
    final CpuBackend owner;
    private final long elements;
    private double[] data; // (elements) values; null once closed

    CpuBuffer(CpuBackend owner, double[] data) {
        this.owner = owner;
        this.elements = data.length;
        this.data = data;
    }

    @Override
    public long elements() { return elements; }

    /** The live storage; throws when closed. */
    double[] data() {
        double[] d = data;
        if (d == null) throw new IllegalStateException("CPU buffer used after close");
        return d;
    }

    @Override
    public void close() {
        if (data == null) return;
        data = null;
        owner.released(this);
    }

    @Override
    public String toString() { return data == null ? "CpuBuffer(closed)" : "CpuBuffer(" + elements + " doubles)"; }
}
