package io.jxception.internal.distributed;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import io.jxception.distributed.AllreduceRequest;
import io.jxception.distributed.Communicator;
import io.jxception.distributed.CommunicatorException;
import io.jxception.distributed.ThreadLevel;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@link Communicator} over MPI: a duplicate of {@code MPI_COMM_WORLD} (so that its messages never
 * match an embedding application's on the world communicator) with {@code MPI_ERRORS_RETURN} set,
 * so that a failing call becomes a {@link CommunicatorException} with MPI's error string instead of
 * ending the process.
 *
 * <p>Java arrays are copied through native staging memory, in chunks of at most
 * {@code stagingBytes} bytes, reused between calls; direct buffers go to MPI as they are. MPI counts
 * are ints, and Java arrays hold at most 2³¹−1 elements, so a count always fits one call.
 *
 * <p>Thread-safety: see {@link Communicator}; every MPI call runs under {@link MpiProcess#lockFor}
 * after {@link MpiProcess#checkThread}.
 */
public final class MpiCommunicator implements Communicator {
    private final MpiProcess process;
    private final MpiLibrary mpi;
    private final MpiAbi abi;
    private final MpiAbi.Handles h;
    private final ReentrantLock lock;
    /** This communicator's handle: a duplicate of MPI_COMM_WORLD. */
    private final Object comm;
    private final int rank, size, localRank, localSize;
    /** Staging chunk: bounds the native memory a blocking call on a Java array copies through at a time. */
    private final int chunkBytes;
    /** Small out-parameters (a handle, an int): 8 bytes, used under the lock. */
    private final Memory out = new Memory(Long.BYTES);
    /** Requests started and not yet seen complete, in start order. */
    private final Set<Request> pending = new LinkedHashSet<>();
    private Memory staging;
    private boolean closed;

    private MpiCommunicator(MpiProcess process, int chunkBytes) {
        this.process = process;
        this.chunkBytes = chunkBytes;
        this.mpi = process.library();
        this.abi = mpi.abi();
        this.h = mpi.handles();
        this.lock = process.lockFor(new ReentrantLock());
        enter();
        try {
            mpi.call("MPI_Comm_dup", h.commWorld(), out);
            comm = abi.readHandle(out);
            mpi.call("MPI_Comm_set_errhandler", comm, h.errorsReturn());
            rank = intOf("MPI_Comm_rank", comm);
            size = intOf("MPI_Comm_size", comm);
            mpi.call("MPI_Comm_split_type", comm, abi.commTypeShared, rank, h.infoNull(), out);
            Object node = abi.readHandle(out);
            localRank = intOf("MPI_Comm_rank", node);
            localSize = intOf("MPI_Comm_size", node);
            abi.writeHandle(out, node);
            mpi.call("MPI_Comm_free", out);
        } finally {
            exit();
        }
    }

    /**
     * Initialises MPI in this process unless it already is ({@link MpiProcess}) and opens a
     * communicator over all its processes. Collective: every rank opens it.
     *
     * @param stagingBytes the most native memory a blocking call on a Java array copies through at a time
     */
    public static MpiCommunicator open(MpiLibrary library, ThreadLevel requested, int stagingBytes) {
        if (stagingBytes < Double.BYTES) throw new IllegalArgumentException("stagingBytes must hold at least one double, got " + stagingBytes);
        MpiProcess process = MpiProcess.acquire(library, requested);
        try {
            return new MpiCommunicator(process, stagingBytes);
        } catch (RuntimeException e) {
            process.release();
            throw e;
        }
    }

    @Override public int rank() { return rank; }

    @Override public int size() { return size; }

    @Override public int localRank() { return localRank; }

    @Override public int localSize() { return localSize; }

    @Override public ThreadLevel threadLevel() { return process.granted(); }

    /** The library in use. */
    public MpiLibrary library() { return mpi; }

    @Override
    public String description() {
        List<String> restored = MpiProcess.restoredSignals();
        return "MPI (" + mpi.shortVersion() + ", " + mpi.file() + "), rank " + rank + " of " + size
                + " (local " + localRank + " of " + localSize + "), thread level " + process.granted()
                + (restored.isEmpty() ? "" : ", JVM signal handlers restored after MPI_Init: " + String.join(" ", restored));
    }

    // ------------------------------------------------------------------ reductions

    @Override
    public void allreduceSum(float[] data, int offset, int count) {
        CollectiveArguments.range(data.length, offset, count);
        enter();
        try {
            forEachChunk(count, Float.BYTES, (first, n, buffer) -> {
                buffer.write(0, data, offset + first, n);
                mpi.call("MPI_Allreduce", abi.inPlace, buffer, n, h.floatType(), h.opSum(), comm);
                buffer.read(0, data, offset + first, n);
            });
        } finally {
            exit();
        }
    }

    @Override
    public void allreduceSum(double[] data, int offset, int count) {
        CollectiveArguments.range(data.length, offset, count);
        enter();
        try {
            forEachChunk(count, Double.BYTES, (first, n, buffer) -> {
                buffer.write(0, data, offset + first, n);
                mpi.call("MPI_Allreduce", abi.inPlace, buffer, n, h.doubleType(), h.opSum(), comm);
                buffer.read(0, data, offset + first, n);
            });
        } finally {
            exit();
        }
    }

    @Override
    public void allreduceSum(FloatBuffer data) {
        CollectiveArguments.direct(data);
        enter();
        try {
            mpi.call("MPI_Allreduce", abi.inPlace, address(data), data.remaining(), h.floatType(), h.opSum(), comm);
        } finally {
            exit();
        }
    }

    @Override
    public AllreduceRequest iallreduceSum(float[] data, int offset, int count) {
        CollectiveArguments.range(data.length, offset, count);
        enter();
        try {
            Memory buffer = new Memory(Math.max(1L, (long) count * Float.BYTES));
            if (count > 0) buffer.write(0, data, offset, count);
            return start(buffer, buffer, count, () -> {
                if (count > 0) buffer.read(0, data, offset, count);
            });
        } finally {
            exit();
        }
    }

    @Override
    public AllreduceRequest iallreduceSum(FloatBuffer data) {
        CollectiveArguments.direct(data);
        enter();
        try {
            return start(null, address(data), data.remaining(), () -> {});
        } finally {
            exit();
        }
    }

    /** Starts MPI_Iallreduce in place over {@code count} floats at {@code data}; {@code owned} (may be null) is freed on completion after {@code deliver}. */
    private Request start(Memory owned, Pointer data, int count, Runnable deliver) {
        Request r = new Request(owned, deliver);
        try {
            mpi.call("MPI_Iallreduce", abi.inPlace, data, count, h.floatType(), h.opSum(), comm, r.handle);
        } catch (RuntimeException e) {
            r.free();
            throw e;
        }
        pending.add(r);
        return r;
    }

    // ------------------------------------------------------------------ broadcast, gather, barrier

    @Override
    public void broadcast(float[] data, int offset, int count, int root) {
        CollectiveArguments.range(data.length, offset, count);
        CollectiveArguments.root(root, size);
        enter();
        try {
            forEachChunk(count, Float.BYTES, (first, n, buffer) -> {
                if (rank == root) buffer.write(0, data, offset + first, n);
                mpi.call("MPI_Bcast", buffer, n, h.floatType(), root, comm);
                if (rank != root) buffer.read(0, data, offset + first, n);
            });
        } finally {
            exit();
        }
    }

    @Override
    public byte[] broadcast(byte[] message, int root) {
        CollectiveArguments.root(root, size);
        if (rank == root) Objects.requireNonNull(message, "the root's message");
        enter();
        try {
            out.setInt(0, rank == root ? message.length : -1);
            mpi.call("MPI_Bcast", out, 1, h.intType(), root, comm);
            byte[] result = rank == root ? message : new byte[out.getInt(0)];
            forEachChunk(result.length, 1, (first, n, buffer) -> {
                if (rank == root) buffer.write(0, result, first, n);
                mpi.call("MPI_Bcast", buffer, n, h.byteType(), root, comm);
                if (rank != root) buffer.read(0, result, first, n);
            });
            return result;
        } finally {
            exit();
        }
    }

    @Override
    public float[][] gatherv(float[] data, int offset, int count, int root) {
        CollectiveArguments.range(data.length, offset, count);
        CollectiveArguments.root(root, size);
        enter();
        try {
            int[] counts = gatherCounts(count, root);
            float[][] result = new float[rank == root ? size : 0][];
            for (int r = 0; r < result.length; r++) result[r] = new float[counts[r]];
            gatherRounds(count, counts, root, Float.BYTES, h.floatType(),
                    (buffer, first, n) -> buffer.write(0, data, offset + first, n),
                    (r, buffer, byteOffset, first, n) -> buffer.read(byteOffset, result[r], first, n));
            return result;
        } finally {
            exit();
        }
    }

    @Override
    public byte[][] gatherv(byte[] data, int offset, int count, int root) {
        CollectiveArguments.range(data.length, offset, count);
        CollectiveArguments.root(root, size);
        enter();
        try {
            int[] counts = gatherCounts(count, root);
            byte[][] result = new byte[rank == root ? size : 0][];
            for (int r = 0; r < result.length; r++) result[r] = new byte[counts[r]];
            gatherRounds(count, counts, root, 1, h.byteType(),
                    (buffer, first, n) -> buffer.write(0, data, offset + first, n),
                    (r, buffer, byteOffset, first, n) -> buffer.read(byteOffset, result[r], first, n));
            return result;
        } finally {
            exit();
        }
    }

    /** Every rank's count, at root (null elsewhere). */
    private int[] gatherCounts(int count, int root) {
        try (Memory counts = new Memory((long) size * Integer.BYTES)) {
            out.setInt(0, count);
            mpi.call("MPI_Gather", out, 1, h.intType(), rank == root ? counts : null, 1, h.intType(), root, comm);
            return rank == root ? counts.getIntArray(0, size) : null;
        }
    }

    /** Copies {@code n} elements from element {@code first} of this rank's range into a buffer at byte 0. */
    private interface Sender { void write(Memory buffer, int first, int n); }

    /** Copies {@code n} elements of rank {@code r}, element {@code first} of its range, from {@code buffer} at {@code byteOffset}. */
    private interface Receiver { void read(int r, Memory buffer, long byteOffset, int first, int n); }

    /**
     * MPI_Gatherv in rounds that keep root's receive buffer within the staging size: in round k
     * every rank sends elements [k·L, (k+1)·L) of its range (fewer, or none, near its end), with L =
     * stagingBytes / elementBytes / size. Root decides the number of rounds (from the largest count)
     * and broadcasts it, since only root knows every count. One round for any output that fits.
     */
    private void gatherRounds(int count, int[] counts, int root, int elementBytes, Object type, Sender send, Receiver receive) {
        int perRank = Math.max(1, chunkBytes / elementBytes / size);
        if (rank == root) {
            int largest = 0;
            for (int c : counts) largest = Math.max(largest, c);
            out.setInt(0, (int) ((largest + (long) perRank - 1) / perRank));
        }
        mpi.call("MPI_Bcast", out, 1, h.intType(), root, comm);
        int rounds = out.getInt(0);
        try (Memory sendBuffer = new Memory((long) Math.max(1, Math.min(perRank, count)) * elementBytes);
             Memory receiveCounts = new Memory((long) size * Integer.BYTES);
             Memory displacements = new Memory((long) size * Integer.BYTES)) {
            Memory receiveBuffer = null;
            try {
                for (int k = 0; k < rounds; k++) {
                    long start = (long) k * perRank;
                    int mine = (int) Math.max(0, Math.min(perRank, count - start));
                    if (mine > 0) send.write(sendBuffer, (int) start, mine);
                    int[] n = new int[size], at = new int[size];
                    if (rank == root) {
                        int total = 0;
                        for (int r = 0; r < size; r++) {
                            n[r] = (int) Math.max(0, Math.min(perRank, counts[r] - start));
                            at[r] = total;
                            total += n[r];
                        }
                        receiveCounts.write(0, n, 0, size);
                        displacements.write(0, at, 0, size);
                        if (receiveBuffer == null) receiveBuffer = new Memory(Math.max(1L, (long) perRank * size * elementBytes));
                    }
                    mpi.call("MPI_Gatherv", sendBuffer, mine, type, receiveBuffer, rank == root ? receiveCounts : null,
                            rank == root ? displacements : null, type, root, comm);
                    if (rank == root) {
                        for (int r = 0; r < size; r++) {
                            if (n[r] > 0) receive.read(r, receiveBuffer, (long) at[r] * elementBytes, (int) start, n[r]);
                        }
                    }
                }
            } finally {
                if (receiveBuffer != null) receiveBuffer.close();
            }
        }
    }

    @Override
    public void barrier() {
        enter();
        try {
            mpi.call("MPI_Barrier", comm);
        } finally {
            exit();
        }
    }

    /**
     * MPI_Abort on this communicator. Also from a thread that MPI's thread level would not allow,
     * and without waiting for a call in progress on another thread: a job that must end should not
     * hang on the lock of a collective that will never complete.
     */
    @Override
    public void abortJob(int errorCode) {
        int rc = mpi.invoke("MPI_Abort", comm, errorCode);
        throw new CommunicatorException("MPI_Abort(" + errorCode + ") returned (error " + rc + ", " + mpi.errorString(rc) + ") instead of ending the job", rc);
    }

    // ------------------------------------------------------------------ close

    @Override
    public void close() {
        if (closed) return;
        for (Request r : new ArrayList<>(pending)) r.await();
        enter();
        try {
            abi.writeHandle(out, comm);
            mpi.call("MPI_Comm_free", out);
        } finally {
            closed = true;
            exit();
            if (staging != null) staging.close();
            out.close();
            process.release();
        }
    }

    // ------------------------------------------------------------------ helpers

    /** Takes the lock after checking the thread; every MPI call of this class runs between enter and exit. */
    private void enter() {
        if (closed) throw new IllegalStateException("the communicator is closed");
        process.checkThread();
        lock.lock();
    }

    private void exit() {
        lock.unlock();
    }

    private int intOf(String function, Object handle) {
        mpi.call(function, handle, out);
        return out.getInt(0);
    }

    /** One chunk of a staged call: elements [first, first + n) through {@code buffer} (at its byte 0). */
    private interface Chunk { void run(int first, int n, Memory buffer); }

    /**
     * Runs {@code chunk} over [0, count) in pieces of at most {@code chunkBytes} through the
     * reused staging memory. A count of 0 runs once with n = 0: MPI's collectives are still called,
     * so that every rank makes the same calls whatever its data.
     */
    private void forEachChunk(int count, int elementBytes, Chunk chunk) {
        int perChunk = chunkBytes / elementBytes;
        long need = Math.max(1L, (long) Math.min(count, perChunk) * elementBytes);
        if (staging == null || staging.size() < need) {
            if (staging != null) staging.close();
            staging = new Memory(need);
        }
        int first = 0;
        do {
            int n = Math.min(perChunk, count - first);
            chunk.run(first, n, staging);
            first += n;
        } while (first < count);
    }

    private static Pointer address(FloatBuffer data) {
        return Native.getDirectBufferPointer(data).share((long) data.position() * Float.BYTES);
    }

    /** An MPI_Iallreduce in flight: its MPI_Request, and the staging memory it owns (null for a direct buffer). */
    private final class Request implements AllreduceRequest {
        /** The MPI_Request, written by MPI_Iallreduce and reset to MPI_REQUEST_NULL on completion. */
        final Memory handle = new Memory(Long.BYTES);
        private final Memory flag = new Memory(Integer.BYTES);
        private final Memory owned;
        private final Runnable deliver;
        private boolean complete;

        Request(Memory owned, Runnable deliver) {
            this.owned = owned;
            this.deliver = deliver;
        }

        @Override
        public boolean test() {
            if (complete) return true;
            enterForRequest();
            try {
                mpi.call("MPI_Test", handle, flag, abi.statusIgnore);
                if (flag.getInt(0) != 0) finish();
                return complete;
            } finally {
                exit();
            }
        }

        @Override
        public void await() {
            if (complete) return;
            enterForRequest();
            try {
                mpi.call("MPI_Wait", handle, abi.statusIgnore);
                finish();
            } finally {
                exit();
            }
        }

        @Override
        public boolean isComplete() { return complete; }

        private void enterForRequest() {
            // a request may be completed while its communicator closes (close awaits it), not after
            process.checkThread();
            lock.lock();
        }

        private void finish() {
            deliver.run();
            complete = true;
            pending.remove(this);
            free();
        }

        void free() {
            if (owned != null) owned.close();
            handle.close();
            flag.close();
        }
    }
}
