package io.jxception.cli;

import io.jxception.exec.InferenceSession;
import io.jxception.internal.backend.KernelBackend;
import io.jxception.weights.XceptionWeights;

import io.jxception.cli.stream.BatchSource;
import io.jxception.cli.stream.DeviceWorkers;
import io.jxception.cli.stream.Prefetch;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The backends of {@code --backend B1,B2,...} and one inference session on each: what {@code infer}
 * and {@code classify} run on. Closing closes the sessions, then the backends, in reverse order.
 */
final class Devices implements AutoCloseable {
    final List<String> names = new ArrayList<>();
    final List<KernelBackend> backends = new ArrayList<>();
    final List<InferenceSession> sessions = new ArrayList<>();

    /** Opens every backend named and a session of {@code maxBatch} images on each; on failure closes what was opened. */
    static Devices open(BackendOptions options, XceptionWeights weights, int maxBatch) { return open(options, weights, maxBatch, false); }

    /**
     * {@link #open(BackendOptions, XceptionWeights, int)}; with {@code onePerRank} (one process of a
     * job of several) {@code --backend auto} means this process's local device
     * ({@link BackendOptions#open(boolean)}).
     */
    static Devices open(BackendOptions options, XceptionWeights weights, int maxBatch, boolean onePerRank) {
        Devices d = new Devices();
        try {
            List<String> names = options.names();
            for (String name : names) {
                KernelBackend b = onePerRank && names.equals(List.of("auto")) ? options.open(true) : options.open(name);
                d.backends.add(b);
                d.names.add(b.name());
                d.sessions.add(new InferenceSession(b, weights, maxBatch));
            }
            return d;
        } catch (RuntimeException e) {
            d.close();
            throw e;
        }
    }

    /**
     * Runs every batch of {@code source} on these devices ({@link DeviceWorkers}), reading ahead on a
     * thread of its own by two batches per device ({@link Prefetch}); closes the source.
     */
    void run(BatchSource source, DeviceWorkers.Outputs outputs) throws IOException {
        try (Prefetch input = new Prefetch(source, 2 * sessions.size())) {
            DeviceWorkers.run(sessions, names, input, outputs);
        }
    }

    /** "cpu" or "cpu,opencl:0". */
    String label() { return String.join(",", names); }

    @Override public void close() {
        for (int i = sessions.size() - 1; i >= 0; i--) sessions.get(i).close();
        for (int i = backends.size() - 1; i >= 0; i--) backends.get(i).close();
        sessions.clear();
        backends.clear();
    }
}
