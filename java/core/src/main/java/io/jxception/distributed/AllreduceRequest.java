package io.jxception.distributed;

/**
 * A non-blocking sum started by {@link Communicator#iallreduceSum}: the data range belongs to the
 * request until it completes. Thread-safety: that of the communicator that started it (its calls
 * are MPI calls).
 */
public interface AllreduceRequest {
    /**
     * Lets MPI make progress and reports whether the sum is complete; when it is, the result is in
     * the caller's array or buffer. Cheap: call it between pieces of other work.
     */
    boolean test();

    /** Blocks until the sum is complete and in the caller's array or buffer. Returns at once when it already is. */
    void await();

    /** Whether a {@link #test()} or {@link #await()} has seen it complete (no MPI call). */
    boolean isComplete();
}
