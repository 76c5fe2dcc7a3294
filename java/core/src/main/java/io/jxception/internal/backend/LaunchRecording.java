package io.jxception.internal.backend;

/**
 * Optional capability of a {@link Backend} that can record a sequence of enqueued ops once and
 * replay it with one host call (CUDA graphs). Replaying removes the per-launch host cost, which at
 * small batches is most of a forward pass: 45 launches of a few microseconds each.
 *
 * <p>A recording keeps the buffers and scalar arguments its ops were enqueued with: each replay
 * reads and writes the same buffers. Ops that allocate on first use must have run once before
 * {@link #record}; transfers and synchronization are not allowed inside it.
 */
public interface LaunchRecording {
    /** A recorded op sequence; closed by its backend's close() at the latest. */
    interface Recording extends AutoCloseable {
        /** Enqueues every recorded op once, in order; returns without waiting. */
        void replay();

        /** Kernel launches recorded. */
        int launches();

        @Override
        void close();
    }

    /** Runs {@code enqueue} with this backend's queue in recording mode: its ops are recorded, not run. */
    Recording record(Runnable enqueue);
}
