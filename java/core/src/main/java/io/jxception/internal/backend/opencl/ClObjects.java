package io.jxception.internal.backend.opencl;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts the OpenCL objects (contexts, queues, programs, kernels, memory objects) this process
 * created and has not released yet, across all backends. Tests read it to prove close() frees all.
 */
public final class ClObjects {
    private ClObjects() {}

    private static final AtomicLong LIVE = new AtomicLong();

    /** OpenCL objects created by jxception and not yet released. */
    public static long live() { return LIVE.get(); }

    static void created() { LIVE.incrementAndGet(); }

    static void released() { LIVE.decrementAndGet(); }
}
