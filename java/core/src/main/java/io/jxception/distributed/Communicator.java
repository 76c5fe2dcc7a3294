package io.jxception.distributed;

import java.nio.FloatBuffer;

/**
 * The processes of one job and the collective operations among them: what data-parallel training
 * (gradient sums, weight broadcast) and sharded inference (gathering outputs) need, and no more.
 * Implementations: MPI (opened by {@link Communicators}) and a single process of rank 0 of 1, in
 * which every collective leaves the data as it is.
 *
 * <h2>Rules every caller follows (MPI's, stated once)</h2>
 * <ul>
 *   <li>Every collective is called by every rank, in the same order, with matching arguments: the
 *       same {@code count} for reductions and broadcasts, the same {@code root}. A rank that skips
 *       one leaves the others waiting in it.</li>
 *   <li>A rank that fails and cannot go on calls {@link #abortJob} (after reporting its error), not
 *       {@link #close}: the others may be waiting in a collective that will never complete, and only
 *       the launcher can end them. A rank that simply exits makes Open MPI's mpirun end the job too.</li>
 *   <li>{@link #close} is collective as well (MPI_Finalize waits for the other ranks): every rank
 *       closes, after its last collective.</li>
 * </ul>
 *
 * <h2>Thread-safety</h2>
 * One thread at a time. Which thread is the MPI thread level's choice ({@link #threadLevel()}): with
 * {@link ThreadLevel#SERIALIZED} or {@link ThreadLevel#MULTIPLE} any thread may call (concurrent
 * calls are serialised by a lock, but their order across ranks is then undefined, so don't); with
 * {@link ThreadLevel#FUNNELED} or {@link ThreadLevel#SINGLE} only the thread that opened the first
 * communicator of the process, and other threads get an {@link IllegalStateException}.
 *
 * <h2>Exactness</h2>
 * A sum of floats over n ranks is computed in an order MPI chooses. For 2 ranks it is the correctly
 * rounded {@code a + b} (addition is commutative), bit for bit what one process computes. For n
 * ranks its error is at most γ(n−1)·Σ|xᵢ| per element, γ(k) = k·u/(1 − k·u), u = 2⁻²⁴ for float
 * (2⁻⁵³ for double): the bound of any summation order. Open MPI's algorithms give every rank the
 * same bits (they reduce, then distribute the result); the MPI standard does not promise it, and the
 * tests check it.
 */
public interface Communicator extends AutoCloseable {
    /** This process's rank, 0 ≤ rank &lt; size. */
    int rank();

    /** The number of processes. */
    int size();

    /** Rank among the processes on this node (MPI_Comm_split_type SHARED; 0 for a single process). */
    int localRank();

    /** The number of processes on this node. */
    int localSize();

    /** Whether this is rank 0, the one that writes files and logs. */
    default boolean isRoot() { return rank() == 0; }

    /** The MPI thread level granted (a single process reports {@link ThreadLevel#MULTIPLE}: it has no restriction). */
    ThreadLevel threadLevel();

    /** For logs: the implementation, library version and thread level, e.g. "MPI (Open MPI v4.1.4), rank 1 of 2, thread level SERIALIZED". */
    String description();

    /**
     * In place, element-wise sum over every rank: afterwards {@code data[offset + i]} on every rank
     * holds Σ over ranks of what each rank had there, for i &lt; count (see Exactness above).
     * Blocks until this rank's part is done.
     */
    void allreduceSum(float[] data, int offset, int count);

    /** {@link #allreduceSum(float[], int, int)} of the whole array. */
    default void allreduceSum(float[] data) { allreduceSum(data, 0, data.length); }

    /** {@link #allreduceSum(float[], int, int)} in double precision (losses, counts, statistics). */
    void allreduceSum(double[] data, int offset, int count);

    /** {@link #allreduceSum(double[], int, int)} of the whole array. */
    default void allreduceSum(double[] data) { allreduceSum(data, 0, data.length); }

    /**
     * {@link #allreduceSum(float[], int, int)} over a direct buffer's elements from its position to
     * its limit, in place and without copying (the buffer's memory is handed to MPI): for host
     * staging buffers that live outside the Java heap (e.g. page-locked memory of a GPU backend).
     *
     * @throws IllegalArgumentException when the buffer is not direct
     */
    void allreduceSum(FloatBuffer data);

    /**
     * Starts {@link #allreduceSum(float[], int, int)} and returns at once; the sum is in
     * {@code data} after {@link AllreduceRequest#await()} (or a {@link AllreduceRequest#test()} that
     * returned true). Until then the range must not be read or written. Several may be in flight;
     * every rank starts them in the same order. Used to overlap a gradient bucket's exchange with
     * the backward pass of the layers below it.
     *
     * <p>Progress: Open MPI advances a non-blocking collective only inside MPI calls, so a caller that
     * computes in between calls {@link AllreduceRequest#test()} now and then (e.g. after each layer).
     */
    AllreduceRequest iallreduceSum(float[] data, int offset, int count);

    /** {@link #iallreduceSum(float[], int, int)} over a direct buffer's elements from position to limit, without copying. */
    AllreduceRequest iallreduceSum(FloatBuffer data);

    /** Copies {@code data[offset .. offset+count)} of rank {@code root} into the same range of every other rank. */
    void broadcast(float[] data, int offset, int count, int root);

    /** {@link #broadcast(float[], int, int, int)} of the whole array. */
    default void broadcast(float[] data, int root) { broadcast(data, 0, data.length, root); }

    /**
     * Rank {@code root}'s {@code message} on every rank, whatever its length (small metadata: a
     * checkpoint's name, a step number, a configuration). Other ranks pass null (or anything: it is
     * ignored) and get root's bytes back; root gets its own array back.
     */
    byte[] broadcast(byte[] message, int root);

    /**
     * Gathers a variable-length range of floats from every rank at {@code root}: there the result's
     * element r is rank r's {@code data[offset .. offset+count)} (of that rank's own count); on the
     * other ranks the result is an empty array. For sharded inference outputs.
     */
    float[][] gatherv(float[] data, int offset, int count, int root);

    /** {@link #gatherv(float[], int, int, int)} for bytes. */
    byte[][] gatherv(byte[] data, int offset, int count, int root);

    /** Returns on every rank only after every rank has called it. */
    void barrier();

    /**
     * Ends every process of the job with {@code errorCode} (MPI_Abort): for a rank that failed while
     * the others may be waiting in a collective. With MPI it does not return (this process ends too,
     * and the launcher reports the code). A single process has no other process to end: it returns,
     * and the caller ends its own process as it would have anyway.
     */
    void abortJob(int errorCode);

    /**
     * Waits for any {@link #iallreduceSum} still in flight, then releases the communicator; the last
     * communicator of a process that initialised MPI finalises it (MPI cannot be initialised again in
     * the same process). Collective: every rank closes. Closing twice does nothing.
     */
    @Override
    void close();
}
