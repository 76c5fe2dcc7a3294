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
     * @param enabled           run the peers at all
     * @param python            interpreter to use, or null to try "python3" then "/usr/bin/python3" (Debian's torch)
     * @param script            benchmarks/peers/pytorch_xception.py (both models: --model keras, --model timm)
     * @param cpuThreads        threads of the CPU peer (PyTorch's set_num_threads)
     * @param compileSeconds    wall-time budget of the torch.compile phase on the GPU (after every batch is measured: one
     *                          child process per model × compile mode × precision, each killed at its share); 0: not run
     * @param gemmScript        benchmarks/peers/cublas_gemms.py (cuBLAS through torch on the pointwise GEMMs), or null
     * @param compileBy         when the compile phase must be done at the latest (the run's time budget less the time to
     *                          write its report), or null: only {@code compileSeconds} limits it
     * @param models            the PyTorch models to run: "keras" (our Keras-exact port), "timm" (timm's legacy_xception)
     * @param compileModes      torch.compile modes: "compile" (mode default), "compile:max-autotune-no-cudagraphs"
     * @param compilePrecisions the precisions torch.compile runs in; empty: every precision CUDA ran
     * @param peaksScript       benchmarks/peers/card_peaks.py (cuBLAS through torch.matmul and torch's copy: the card's
     *                          ceilings beside our kernels'), or null
     * @param layerScript       benchmarks/peers/cudnn_layers.py (each fused launch's work in PyTorch eager: cuDNN per
     *                          layer), or null
     */
    public record PeerOptions(boolean enabled, String python, Path script, int cpuThreads, int compileSeconds, Path gemmScript,
                              java.time.Instant compileBy, List<String> models, List<String> compileModes,
                              List<String> compilePrecisions, Path peaksScript, Path layerScript) {
        public static final List<String> MODELS = List.of("keras", "timm");
        public static final List<String> COMPILE_MODES = List.of("compile", "compile:max-autotune-no-cudagraphs");

        public PeerOptions {
            if (compileSeconds < 0) throw new IllegalArgumentException("compile budget must be at least 0 s, got " + compileSeconds);
            models = List.copyOf(models);
            compileModes = List.copyOf(compileModes);
            compilePrecisions = List.copyOf(compilePrecisions);
            for (String m : models) {
                if (!MODELS.contains(m)) throw new IllegalArgumentException("unknown peer model '" + m + "': expected " + String.join(" or ", MODELS));
            }
            for (String m : compileModes) {
                if (!COMPILE_MODES.contains(m)) {
                    throw new IllegalArgumentException("unknown compile mode '" + m + "': expected default or max-autotune-no-cudagraphs");
                }
            }
        }

        /** Both models, both compile modes, compile in every CUDA precision; no card-peak or per-layer script. */
        public PeerOptions(boolean enabled, String python, Path script, int cpuThreads, int compileSeconds, Path gemmScript,
                           java.time.Instant compileBy) {
            this(enabled, python, script, cpuThreads, compileSeconds, gemmScript, compileBy, MODELS, COMPILE_MODES, List.of(), null, null);
        }

        public PeerOptions(boolean enabled, String python, Path script, int cpuThreads, int compileSeconds, Path gemmScript) {
            this(enabled, python, script, cpuThreads, compileSeconds, gemmScript, null);
        }

        public static PeerOptions none() { return new PeerOptions(false, null, null, 0, 0, null); }

        /** Seconds the compile phase may take if it starts now: compileSeconds, cut to what is left before compileBy. */
        public long compileBudgetSeconds(java.time.Instant now) {
            if (compileBy == null) return compileSeconds;
            return Math.max(0, Math.min(compileSeconds, java.time.Duration.between(now, compileBy).toSeconds()));
        }
    }
}
