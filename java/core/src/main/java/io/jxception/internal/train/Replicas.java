package io.jxception.internal.train;

import io.jxception.distributed.Communicator;
import io.jxception.model.ParamSpec;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the trainer's processes agree on when they train one model together (data parallelism),
 * over a {@link Communicator}; with one process every method is what a lone trainer does.
 *
 * <p>Rank 0 reads and writes files; the others learn the outcome through a collective, so that
 * every rank goes on or stops together and no rank waits in a collective the others left:
 * a checkpoint read on rank 0 reaches every rank by broadcast, a write that fails on rank 0 fails
 * on every rank with rank 0's message. Every method is collective: every rank calls it, in the
 * same order.
 */
public final class Replicas {
    private final Communicator comm;

    public Replicas(Communicator comm) {
        this.comm = java.util.Objects.requireNonNull(comm, "comm");
    }

    public Communicator communicator() { return comm; }

    public int size() { return comm.size(); }

    public int rank() { return comm.rank(); }

    public boolean isRoot() { return comm.rank() == 0; }

    public boolean isDistributed() { return comm.size() > 1; }

    /**
     * Checks that every rank runs the same training: each rank's {@code fingerprint} (lines
     * "what=value": options, network, the image list's digest) is gathered at rank 0 and compared
     * with rank 0's; the first difference is reported on every rank.
     *
     * @throws IllegalArgumentException naming the rank and the line that differs
     */
    public void requireSameRun(List<String> fingerprint) {
        if (!isDistributed()) return;
        byte[] mine = String.join("\n", fingerprint).getBytes(StandardCharsets.UTF_8);
        byte[][] all = comm.gatherv(mine, 0, mine.length, 0);
        String verdict = "";
        if (isRoot()) {
            List<String> root = fingerprint;
            for (int r = 1; r < all.length && verdict.isEmpty(); r++) {
                List<String> other = List.of(new String(all[r], StandardCharsets.UTF_8).split("\n", -1));
                for (int i = 0; i < Math.max(root.size(), other.size()); i++) {
                    String a = i < root.size() ? root.get(i) : "(nothing)", b = i < other.size() ? other.get(i) : "(nothing)";
                    if (!a.equals(b)) {
                        verdict = "rank " + r + " of " + size() + " was started with another training than rank 0: rank 0 has " + a + ", rank " + r + " has " + b
                                + ". Start every rank with the same command line and the same data (a shared folder or identical copies)";
                        break;
                    }
                }
            }
        }
        String message = new String(comm.broadcast(verdict.getBytes(StandardCharsets.UTF_8), 0), StandardCharsets.UTF_8);
        if (!message.isEmpty()) throw new IllegalArgumentException(message);
    }

    /** Something rank 0 does with files. */
    public interface RootAction<T> {
        T run() throws IOException;
    }

    /**
     * Runs {@code action} on rank 0 only and makes its failure every rank's failure: the other ranks
     * throw an {@link IOException} with rank 0's message. Returns rank 0's result there, null elsewhere.
     */
    public <T> T onRoot(String what, RootAction<T> action) throws IOException {
        if (!isDistributed()) return action.run();
        T result = null;
        String failure = "";
        Exception thrown = null;
        if (isRoot()) {
            try {
                result = action.run();
            } catch (IOException | RuntimeException e) {
                thrown = e;
                failure = e.getMessage() == null ? e.toString() : e.getMessage();
            }
        }
        String message = new String(comm.broadcast(failure.getBytes(StandardCharsets.UTF_8), 0), StandardCharsets.UTF_8);
        if (thrown instanceof IOException io) throw io;
        if (thrown instanceof RuntimeException re) throw re;
        if (!message.isEmpty()) throw new IOException("rank 0 failed " + what + ": " + message);
        return result;
    }

    /** Rank 0's weights (moving statistics included) on every rank. */
    public XceptionWeights broadcast(XceptionWeights weights) {
        if (!isDistributed()) return weights;
        XceptionGraph graph = weights.graph();
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (ParamSpec p : graph.params()) out.put(p.key(), broadcast(weights.get(p.key())));
        return new XceptionWeights(graph, out);
    }

    private Tensor broadcast(Tensor t) {
        float[] data = t.data().clone();
        comm.broadcast(data, 0);
        return new Tensor(t.shape(), data);
    }

    /**
     * The checkpoint rank 0 resumes from, on every rank: rank 0 runs {@code read} (null: no
     * checkpoint, start anew) and broadcasts its state, weights and momentum, so that the other
     * ranks need no access to the output folder. A failure of {@code read} is every rank's.
     */
    public Checkpoint shareCheckpoint(XceptionGraph graph, RootAction<Checkpoint> read) throws IOException {
        if (!isDistributed()) return read.run();
        Checkpoint checkpoint = onRoot("reading the checkpoint", read);
        byte[] state = comm.broadcast(isRoot() ? metadataBytes(checkpoint) : null, 0);
        if (state.length == 0) return null;
        TrainerState s = TrainerState.fromMetadata(metadataOf(state));
        Map<String, Tensor> weights = new LinkedHashMap<>(), velocities = new LinkedHashMap<>();
        for (ParamSpec p : graph.params()) {
            weights.put(p.key(), broadcast(isRoot() ? checkpoint.weights().get(p.key()) : Tensor.zeros(p.shape())));
            if (p.trainable()) velocities.put(p.key(), broadcast(isRoot() ? checkpoint.velocities().get(p.key()) : Tensor.zeros(p.shape())));
        }
        return new Checkpoint(new XceptionWeights(graph, weights), velocities, s);
    }

    /** The per-step totals every rank agrees on (one allreduce of a few numbers). */
    public record StepTotals(double meanLoss, long correct, long images, boolean overflow, boolean stop) {}

    /**
     * One small allreduce per step: the loss (mean over the ranks' batch means; not finite when any
     * rank's is not), the correct predictions and images of all ranks, whether any rank's gradients
     * overflowed (every rank then skips the step) and whether any rank was asked to stop.
     */
    public StepTotals agree(double meanLoss, int correct, int images, boolean overflow, boolean stopRequested) {
        double[] v = {meanLoss, correct, images, overflow ? 1 : 0, stopRequested ? 1 : 0};
        comm.allreduceSum(v);
        return new StepTotals(v[0] / size(), Math.round(v[1]), Math.round(v[2]), v[3] > 0, v[4] > 0);
    }

    /** Every rank's {@code mine} (short texts without NUL characters) on every rank, in rank order. */
    public List<String> everyRanks(List<String> mine) {
        if (!isDistributed()) return List.copyOf(mine);
        byte[] bytes = String.join("\0", mine).getBytes(StandardCharsets.UTF_8);
        byte[][] all = comm.gatherv(bytes, 0, bytes.length, 0);
        String joined = "";
        if (isRoot()) {
            java.util.List<String> parts = new java.util.ArrayList<>();
            for (byte[] b : all) if (b.length > 0) parts.add(new String(b, StandardCharsets.UTF_8));
            joined = String.join("\0", parts);
        }
        String everything = new String(comm.broadcast(joined.getBytes(StandardCharsets.UTF_8), 0), StandardCharsets.UTF_8);
        return everything.isEmpty() ? List.of() : List.of(everything.split("\0", -1));
    }

    /** Sums of a few statistics over the ranks (validation loss and counts), in place. */
    public void sum(double[] values) { comm.allreduceSum(values); }

    private static byte[] metadataBytes(Checkpoint checkpoint) {
        if (checkpoint == null) return new byte[0];
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            Map<String, String> m = checkpoint.state().toMetadata();
            out.writeInt(m.size());
            for (Map.Entry<String, String> e : m.entrySet()) {
                writeString(out, e.getKey());
                writeString(out, e.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static Map<String, String> metadataOf(byte[] bytes) {
        Map<String, String> m = new LinkedHashMap<>();
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            int n = in.readInt();
            for (int i = 0; i < n; i++) m.put(readString(in), readString(in));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return m;
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    private static String readString(DataInputStream in) throws IOException {
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
