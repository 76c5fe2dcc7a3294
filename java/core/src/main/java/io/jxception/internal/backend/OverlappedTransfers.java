package io.jxception.internal.backend;

/**
 * Optional capability of a {@link Backend} with a second device queue for host→device copies, so
 * that the copy of the next batch runs while the compute queue still works on this one
 * ({@code exec.BatchPipeline} uses it). Ops of the {@link Backend} interface run on the compute
 * queue, in order; only {@link #uploadAsync} runs beside it.
 */
public interface OverlappedTransfers {
    /** A point in the compute queue: the ops enqueued before {@link #fence()} was called. */
    interface Fence extends AutoCloseable {
        @Override
        void close();
    }

    /** A download enqueued on the compute queue; {@link #await} waits for it and converts. */
    interface PendingDownload extends AutoCloseable {
        /** Waits until the copy has finished and writes the {@code count} values into {@code dst} from {@code dstOffset}. */
        void await(float[] dst, int dstOffset);

        /** Values this download copies. */
        int count();

        /** Releases its page-locked buffer (waiting for the copy first if it was never awaited). */
        @Override
        void close();
    }

    /** Marks the current end of the compute queue. */
    Fence fence();

    /**
     * Stages {@code src[srcOffset .. srcOffset+count)} in page-locked host memory and enqueues its copy
     * into {@code dst} (as fp32, from element {@code dstOffset}) on the copy queue. The copy starts
     * once the compute queue has passed {@code after} (null: at once): pass the fence after the last
     * op that reads {@code dst}. Ops enqueued on the compute queue after this call wait for the copy.
     * Returns once {@code src} is staged: the caller may reuse it. Blocks while an earlier copy still
     * holds the staging memory this one needs.
     */
    void uploadAsync(float[] src, int srcOffset, Buffer dst, long dstOffset, int count, Fence after);

    /**
     * As {@link #uploadAsync} for raw 8-bit pixels ({@link KernelBackend#uploadUint8}): one byte per
     * value staged and copied, a quarter of the float32 traffic.
     */
    void uploadUint8Async(byte[] src, int srcOffset, Buffer dst, long dstOffset, int count, Fence after);

    /**
     * Enqueues a copy of {@code src[srcOffset .. srcOffset+count)} into page-locked host memory on the
     * compute queue, after every op enqueued so far, and returns at once.
     */
    PendingDownload downloadAsync(Buffer src, long srcOffset, int count);
}
