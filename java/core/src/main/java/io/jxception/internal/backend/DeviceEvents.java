package io.jxception.internal.backend;

/**
 * Optional capability of a {@link Backend} whose device can time its own queue (CUDA events,
 * OpenCL profiling events). Benchmarks prefer it to the host clock: it leaves out launch latency
 * and the host's wait, which at small batches can be most of a host-measured kernel time.
 */
public interface DeviceEvents {
    /**
     * Records an event, runs {@code enqueue} (which only enqueues work on this backend's queue),
     * records a second event, waits for it, and returns the device time between the two in seconds.
     */
    double elapsedSeconds(Runnable enqueue);

    /** What the events are, for reports: "CUDA events", "OpenCL profiling". */
    String eventKind();
}
