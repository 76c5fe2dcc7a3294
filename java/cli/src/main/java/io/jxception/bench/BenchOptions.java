package io.jxception.bench;

import io.jxception.backend.Precision;

import java.nio.file.Path;
import java.util.List;

/**
 * What one run of the suite measures; validated here so that a bad option fails before any work.
 *
 * @param backends   command-line backend names ("cpu", "opencl", "cuda:1"), measured in this order
 * @param precisions every backend is run in each
 * @param batches    batch sizes, each a separate session
 * @param size       input height = width (≥ 71)
 * @param iterations timed repetitions per measurement (the median is reported)
 * @param warmup     untimed forward passes before timing
 * @param perLayer   also time every fused launch (one more forward pass per iteration, each launch timed alone)
 * @param remeasure  measure the peaks even when the cache has them
 * @param peaksFile  the peaks cache
 * @param peers      which peers to run, and how
 * @param seed       of the random weights and inputs
 */
public record BenchOptions(List<String> backends, List<Precision> precisions, List<Integer> batches, int size,
                           int iterations, int warmup, boolean perLayer, boolean remeasure, Path peaksFile,
                           PeerOptions peers, long seed) {
    public BenchOptions {
        backends = List.copyOf(backends);
        precisions = List.copyOf(precisions);
        batches = List.copyOf(batches);
        if (backends.isEmpty()) throw new IllegalArgumentException("no backend given: use e.g. --backend cpu,opencl");
        if (precisions.isEmpty()) throw new IllegalArgumentException("no precision given: use e.g. --precision fp32");
        if (batches.isEmpty()) throw new IllegalArgumentException("no batch size given: use e.g. --batch 1,8");
        for (int b : batches) if (b < 1) throw new IllegalArgumentException("batch sizes must be at least 1, got " + b);
        if (size < 71) throw new IllegalArgumentException("size " + size + " is too small: Xception needs at least 71");
        if (iterations < 1) throw new IllegalArgumentException("iterations must be at least 1, got " + iterations);
        if (warmup < 0) throw new IllegalArgumentException("warmup must be at least 0, got " + warmup);
    }

    /**
     * @param enabled        run the peers at all
     * @param python         interpreter to use, or null to try "python3" then "/usr/bin/python3" (Debian's torch)
     * @param script         benchmarks/peers/pytorch_xception.py
     * @param cpuThreads     threads of the CPU peer (PyTorch's set_num_threads)
     * @param compileSeconds wall-time budget of the torch.compile peer on the GPU (one child process after
     *                       every batch is measured, killed at the budget); 0: not run
     * @param gemmScript     benchmarks/peers/cublas_gemms.py (cuBLAS through torch on the pointwise GEMMs), or null
     * @param compileBy      when the compile peer must be done at the latest (the run's time budget less the time to write
     *                       its report), or null: only {@code compileSeconds} limits it
     */
    public record PeerOptions(boolean enabled, String python, Path script, int cpuThreads, int compileSeconds, Path gemmScript,
                              java.time.Instant compileBy) {
        public PeerOptions {
            if (compileSeconds < 0) throw new IllegalArgumentException("compile budget must be at least 0 s, got " + compileSeconds);
        }

        public PeerOptions(boolean enabled, String python, Path script, int cpuThreads, int compileSeconds, Path gemmScript) {
            this(enabled, python, script, cpuThreads, compileSeconds, gemmScript, null);
        }

        public static PeerOptions none() { return new PeerOptions(false, null, null, 0, 0, null); }

        /** Seconds the compile peer may take if it starts now: compileSeconds, cut to what is left before compileBy. */
        public long compileBudgetSeconds(java.time.Instant now) {
            if (compileBy == null) return compileSeconds;
            return Math.max(0, Math.min(compileSeconds, java.time.Duration.between(now, compileBy).toSeconds()));
        }
    }
}
