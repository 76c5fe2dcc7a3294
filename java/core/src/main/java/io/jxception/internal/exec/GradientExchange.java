package io.jxception.internal.exec;

import io.jxception.distributed.AllreduceRequest;
import io.jxception.distributed.Communicator;
import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.KernelBackend;

import java.util.ArrayList;
import java.util.List;

/**
 * The gradient sum of data-parallel training, in buckets that start while the backward pass goes
 * on (PyTorch DDP's scheme): the weight gradients become final in reverse topological order; when
 * the last gradient of a bucket (about {@code bucketBytes} of them, in that order) is final, the
 * bucket is staged to the host and its sum over every process started with
 * {@link Communicator#iallreduceSum}; {@link #progress()} after each later layer lets MPI move it;
 * {@link #finish()} waits for every bucket and puts the sums back on the device.
 *
 * <p>Every process scales its loss by 1/N (through the head's loss scale), so the sum is the
 * gradient of the mean loss over the global batch. The element-wise sum does not depend on where
 * the bucket boundaries fall: bucket size changes speed, never results.
 *
 * <p>Optionally the batch norms' moving statistics travel too, averaged rather than summed: without
 * synchronised batch norm each process updates them with its own batch's statistics, and the
 * average (started once the forward pass has made them final) keeps every process's copy the same.
 *
 * <p>What overlaps: the host staging of a bucket ({@link KernelBackend#download}) waits for the
 * device to finish the layers before it, so on an asynchronous device (CUDA) the GPU idles from
 * that point until the next layer is queued; MPI then moves the bucket during later layers only
 * inside {@link #progress()} calls (Open MPI has no progress thread). On the cpu and OpenCL
 * backends, which compute on the calling process's cores, the overlap is that of MPI's own
 * progress between layers. A device-side communicator (NCCL, CUDA-aware MPI) would replace the
 * staging here, not the bucket order.
 *
 * <p>Without overlap ({@code overlap} false) every bucket is summed with a blocking allreduce after
 * the backward pass: on a machine where MPI's own cores do the reduction (shared memory, no
 * offloading network card), a blocking allreduce of a large buffer is faster than the
 * non-blocking one progressed between layers (measured: benchmarks/mpi).
 *
 * <p>Not thread-safe: the training thread calls it.
 */
public final class GradientExchange {
    /** One gradient (or moving statistic) in readiness order: its device buffer and its place in its bucket's host array. */
    private record Slot(String key, Buffer buffer, int elements, int bucket, int offset) {}

    private final KernelBackend backend;
    private final Communicator comm;
    private final List<Slot> slots = new ArrayList<>();
    private final java.util.Set<String> keys = new java.util.HashSet<>();
    private final List<float[]> buckets = new ArrayList<>();   // host staging, one per bucket
    private final List<Integer> lastSlotOfBucket = new ArrayList<>();
    private final List<Slot> moving = new ArrayList<>();
    private final float[] movingHost;
    private final AllreduceRequest[] requests;
    private final boolean overlap;
    private AllreduceRequest movingRequest;
    private int nextSlot;
    private final Times times = new Times();

    /** Where an exchange's time went in one step, in nanoseconds (for the per-rank compute/allreduce split). */
    public static final class Times {
        /** Device → host before each bucket's start and host → device of the sums (the device's queued work finished first: that is compute). */
        public long stagingNanos;
        /** Inside MPI calls: starting, testing and awaiting the buckets. */
        public long communicatorNanos;
        /** Of {@link #communicatorNanos}: blocked in {@link #finish()} waiting for sums still in flight (the exposed part). */
        public long waitNanos;
        /** Bytes summed per process (gradients and moving statistics). */
        public long bytes;

        void reset() {
            stagingNanos = communicatorNanos = waitNanos = bytes = 0;
        }
    }

    /**
     * @param gradients      key → (buffer, elements) of every gradient to sum, in the order the backward pass finishes them
     * @param movingStatistics buffers to average once per step after the forward pass (empty: none)
     * @param bucketBytes    the size at which a bucket is closed (a bucket holds at least one gradient)
     * @param overlap        start each bucket's sum as soon as it is final (else: blocking sums after the backward pass)
     */
    GradientExchange(KernelBackend backend, Communicator comm, List<Named> gradients, List<Named> movingStatistics, long bucketBytes, boolean overlap) {
        if (bucketBytes < Float.BYTES) throw new IllegalArgumentException("gradient bucket size must be at least 4 bytes, got " + bucketBytes);
        this.backend = backend;
        this.comm = comm;
        this.overlap = overlap;
        int bucket = 0, offset = 0;
        for (int i = 0; i < gradients.size(); i++) {
            Named g = gradients.get(i);
            slots.add(new Slot(g.key(), g.buffer(), g.elements(), bucket, offset));
            keys.add(g.key());
            offset = Math.addExact(offset, g.elements());
            boolean last = i == gradients.size() - 1;
            if (last || (long) offset * Float.BYTES >= bucketBytes) {
                buckets.add(new float[offset]);
                lastSlotOfBucket.add(i);
                bucket++;
                offset = 0;
            }
        }
        requests = new AllreduceRequest[buckets.size()];
        int m = 0;
        for (Named s : movingStatistics) {
            moving.add(new Slot(s.key(), s.buffer(), s.elements(), -1, m));
            m = Math.addExact(m, s.elements());
        }
        movingHost = new float[m];
    }

    /** A device buffer by name with the number of elements that count. */
    record Named(String key, Buffer buffer, int elements) {}

    /** Number of buckets the gradients fall into. */
    public int bucketCount() { return buckets.size(); }

    /** Elements per bucket, in start order. */
    public int[] bucketElements() { return buckets.stream().mapToInt(b -> b.length).toArray(); }

    /** This step's times (reset by {@link #beginStep()}). */
    public Times times() { return times; }

    /** A new step: no gradient final yet. */
    void beginStep() {
        if (nextSlot != 0 && nextSlot != slots.size()) throw new IllegalStateException("a step began before the last one's gradients were all exchanged");
        nextSlot = 0;
        java.util.Arrays.fill(requests, null);
        movingRequest = null;
        times.reset();
    }

    /** The forward pass is done: the moving statistics are final; starts their average. */
    void forwardDone() {
        if (moving.isEmpty() || !overlap) return;
        backend.synchronize(); // the device's queued work is compute, not staging
        long t0 = System.nanoTime();
        for (Slot s : moving) backend.download(s.buffer(), 0, movingHost, s.offset(), s.elements());
        long t1 = System.nanoTime();
        movingRequest = comm.iallreduceSum(movingHost, 0, movingHost.length);
        times.stagingNanos += t1 - t0;
        times.communicatorNanos += System.nanoTime() - t1;
        times.bytes += (long) movingHost.length * Float.BYTES;
    }

    /**
     * The gradient {@code key} is final. Gradients must become final in the order given at
     * construction; the one that completes a bucket starts the bucket's sum.
     */
    void ready(String key) {
        if (nextSlot >= slots.size()) throw new IllegalStateException("gradient " + key + " became final after every bucket was started");
        Slot s = slots.get(nextSlot);
        if (!s.key().equals(key)) throw new IllegalStateException("gradient " + key + " became final where the bucket plan expects " + s.key());
        if (overlap && lastSlotOfBucket.get(s.bucket()) == nextSlot) start(s.bucket());
        nextSlot++;
    }

    /** Whether {@code key} is one of the gradients this exchange sums. */
    boolean sums(String key) { return keys.contains(key); }

    private void start(int bucket) {
        backend.synchronize(); // the device's queued work is compute, not staging
        long t0 = System.nanoTime();
        float[] host = buckets.get(bucket);
        for (Slot s : slots) if (s.bucket() == bucket) backend.download(s.buffer(), 0, host, s.offset(), s.elements());
        long t1 = System.nanoTime();
        requests[bucket] = comm.iallreduceSum(host, 0, host.length);
        times.stagingNanos += t1 - t0;
        times.communicatorNanos += System.nanoTime() - t1;
        times.bytes += (long) host.length * Float.BYTES;
    }

    /** Without overlap: every bucket (and the moving statistics) staged and summed now, one blocking allreduce each. */
    private void sumBlocking() {
        backend.synchronize(); // the device's queued work is compute, not staging
        long staging0 = System.nanoTime();
        List<float[]> all = new ArrayList<>(buckets);
        if (!moving.isEmpty()) {
            for (Slot s : moving) backend.download(s.buffer(), 0, movingHost, s.offset(), s.elements());
            all.add(movingHost);
        }
        for (int b = 0; b < buckets.size(); b++) {
            float[] host = buckets.get(b);
            for (Slot s : slots) if (s.bucket() == b) backend.download(s.buffer(), 0, host, s.offset(), s.elements());
        }
        times.stagingNanos += System.nanoTime() - staging0;
        for (float[] host : all) {
            long t0 = System.nanoTime();
            comm.allreduceSum(host);
            long t = System.nanoTime() - t0;
            times.communicatorNanos += t;
            times.waitNanos += t;
            times.bytes += (long) host.length * Float.BYTES;
        }
    }

    /** Lets MPI move the sums in flight (call between layers). */
    void progress() {
        long t0 = System.nanoTime();
        if (movingRequest != null && !movingRequest.isComplete()) movingRequest.test();
        for (AllreduceRequest r : requests) if (r != null && !r.isComplete()) r.test();
        times.communicatorNanos += System.nanoTime() - t0;
    }

    /**
     * Waits for every sum and writes it back: the gradients as summed, the moving statistics divided
     * by the number of processes.
     *
     * @throws IllegalStateException when the backward pass did not finish every gradient of the plan
     */
    void finish() {
        if (nextSlot != slots.size()) {
            throw new IllegalStateException("the backward pass finished " + nextSlot + " of " + slots.size() + " gradients; next expected: " + slots.get(nextSlot).key());
        }
        if (!overlap) sumBlocking();
        long t0 = System.nanoTime();
        if (movingRequest != null) movingRequest.await();
        for (AllreduceRequest r : requests) if (r != null) r.await();
        long t1 = System.nanoTime();
        times.waitNanos += t1 - t0;
        times.communicatorNanos += t1 - t0;
        for (Slot s : slots) backend.upload(buckets.get(s.bucket()), s.offset(), s.buffer(), 0, s.elements());
        if (!moving.isEmpty()) {
            float inverse = 1f / comm.size();
            for (int i = 0; i < movingHost.length; i++) movingHost[i] *= inverse;
            for (Slot s : moving) backend.upload(movingHost, s.offset(), s.buffer(), 0, s.elements());
        }
        times.stagingNanos += System.nanoTime() - t1;
    }
}
