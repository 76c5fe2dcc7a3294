package io.jxception.distributed;

import io.jxception.internal.distributed.CollectiveArguments;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * This process alone, rank 0 of 1: every collective leaves the data as it is (a sum over one rank,
 * a broadcast from itself, a gather of its own range). Arguments are checked as MPI's communicator
 * checks them, so code that runs here runs under mpirun. No native code, no global state.
 */
final class SingleProcessCommunicator implements Communicator {
    private boolean closed;

    @Override public int rank() { return 0; }

    @Override public int size() { return 1; }

    @Override public int localRank() { return 0; }

    @Override public int localSize() { return 1; }

    @Override public ThreadLevel threadLevel() { return ThreadLevel.MULTIPLE; }

    @Override public String description() { return "single process (no MPI), rank 0 of 1"; }

    @Override
    public void allreduceSum(float[] data, int offset, int count) {
        open();
        CollectiveArguments.range(data.length, offset, count);
    }

    @Override
    public void allreduceSum(double[] data, int offset, int count) {
        open();
        CollectiveArguments.range(data.length, offset, count);
    }

    @Override
    public void allreduceSum(FloatBuffer data) {
        open();
        CollectiveArguments.direct(data);
    }

    @Override
    public AllreduceRequest iallreduceSum(float[] data, int offset, int count) {
        allreduceSum(data, offset, count);
        return Completed.INSTANCE;
    }

    @Override
    public AllreduceRequest iallreduceSum(FloatBuffer data) {
        allreduceSum(data);
        return Completed.INSTANCE;
    }

    @Override
    public void broadcast(float[] data, int offset, int count, int root) {
        open();
        CollectiveArguments.range(data.length, offset, count);
        CollectiveArguments.root(root, 1);
    }

    @Override
    public byte[] broadcast(byte[] message, int root) {
        open();
        CollectiveArguments.root(root, 1);
        if (message == null) throw new NullPointerException("the root's message is null");
        return message;
    }

    @Override
    public float[][] gatherv(float[] data, int offset, int count, int root) {
        open();
        CollectiveArguments.range(data.length, offset, count);
        CollectiveArguments.root(root, 1);
        return new float[][]{Arrays.copyOfRange(data, offset, offset + count)};
    }

    @Override
    public byte[][] gatherv(byte[] data, int offset, int count, int root) {
        open();
        CollectiveArguments.range(data.length, offset, count);
        CollectiveArguments.root(root, 1);
        return new byte[][]{Arrays.copyOfRange(data, offset, offset + count)};
    }

    @Override
    public void barrier() { open(); }

    @Override
    public void abortJob(int errorCode) {
        // nothing else to end: the caller ends this process
    }

    @Override
    public void close() { closed = true; }

    private void open() {
        if (closed) throw new IllegalStateException("the communicator is closed");
    }

    /** A request that completed when it was started. */
    private enum Completed implements AllreduceRequest {
        INSTANCE;

        @Override public boolean test() { return true; }

        @Override public void await() {}

        @Override public boolean isComplete() { return true; }
    }
}
