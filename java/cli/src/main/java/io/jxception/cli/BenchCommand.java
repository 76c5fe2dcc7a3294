package io.jxception.cli;

import io.jxception.internal.backend.KernelBackend;
import io.jxception.backend.Precision;
import io.jxception.bench.BenchOptions;
import io.jxception.bench.BenchReport;
import io.jxception.bench.BenchSuite;
import io.jxception.bench.Csv;
import io.jxception.bench.JsonReport;
import io.jxception.bench.LayerResult;
import io.jxception.bench.PeakCache;
import io.jxception.bench.Peaks;
import io.jxception.bench.PeerResult;
import io.jxception.bench.Plots;
import io.jxception.bench.ReportFiles;
import io.jxception.bench.ThroughputResult;
import io.jxception.model.XceptionConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * {@code jxception bench}: the kernel comparison suite ({@link BenchSuite}) from the command line.
 * Forward throughput of the full-width ImageNet Xception with random weights and inputs (no
 * downloads) for every backend × precision × batch, each fused launch against the device's
 * measured floor with {@code --per-layer}, PyTorch beside it where it is installed, and the
 * results as tables on stdout and CSV / JSON / PNG / markdown files.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Measure forward throughput (img/s) and, with --per-layer, every fused kernel launch against the device's",
                "measured roofline, beside PyTorch where it is installed. Random weights and input: no downloads needed.",
                "Example: jxception bench --backend cpu,opencl --batch 1,8 --per-layer --report benchmarks/results",
                "Render a saved run: jxception bench --from-json suite.json --report benchmarks/results"})
final class BenchCommand extends Subcommand {
    @Option(names = "--backend", split = ",", defaultValue = "auto", paramLabel = "B", converter = BackendOptions.NameConverter.class,
            description = "Backends to compare, comma separated: auto (default), cpu, opencl[:i], cuda[:i].")
    List<String> backends;

    @Option(names = "--precision", split = ",", defaultValue = "fp32", paramLabel = "P", converter = BackendOptions.PrecisionConverter.class,
            description = "Precisions, comma separated: fp32 (default), tf32, bf16, fp16 (where the backend has them).")
    List<Precision> precisions;

    @Option(names = "--batch", split = ",", defaultValue = "1", paramLabel = "N", description = "Batch sizes, comma separated (default 1), e.g. 1,8,32,256.")
    List<Integer> batches;

    @Option(names = "--size", defaultValue = "299", paramLabel = "S", description = "Input height and width, at least 71 (default 299).")
    int size;

    @Option(names = {"--iterations", "--runs"}, paramLabel = "K", description = "Timed repetitions; the median is reported (default 10; 3 when only cpu runs).")
    Integer iterations;

    @Option(names = "--warmup", paramLabel = "W", description = "Untimed forward passes first (default 2; 1 when only cpu runs).")
    Integer warmup;

    @Option(names = "--per-layer", description = "Also time every fused launch alone and print it against its floor.")
    boolean perLayer;

    @Option(names = "--csv", paramLabel = "FILE", description = "Write one row per fused launch (counts; times with --per-layer).")
    Path csv;

    @Option(names = "--json", paramLabel = "FILE", description = "Write the whole report as JSON.")
    Path json;

    @Option(names = "--plot", paramLabel = "DIR", description = "Write PNG charts: roofline and per-launch times (with --per-layer), img/s against batch.")
    Path plotDir;

    @Option(names = "--report", paramLabel = "DIR", description = "Write everything, named by device and date: CSVs, JSON, plots, SUMMARY-<device>-<date>.md.")
    Path reportDir;

    @Option(names = "--remeasure", description = "Measure the devices' peak FLOP/s and bandwidth again instead of using the cache.")
    boolean remeasure;

    @Option(names = "--peaks-file", paramLabel = "FILE", description = "Peaks cache (default ~/.cache/jxception/peaks.json).")
    Path peaksFile;

    @Option(names = "--peers", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Run PyTorch beside us where python3 has torch (default on; --no-peers skips it).")
    boolean peers;

    @Option(names = "--python", paramLabel = "EXE", description = "Python for the peers (default: python3, then /usr/bin/python3).")
    String python;

    @Option(names = "--peer-script", defaultValue = "benchmarks/peers/pytorch_xception.py", paramLabel = "FILE",
            description = "The PyTorch peer script (default benchmarks/peers/pytorch_xception.py, from the repository root).")
    Path peerScript;

    @Option(names = "--peer-threads", paramLabel = "T", description = "Threads of PyTorch CPU (default: every core, as our CPU backends use).")
    Integer peerThreads;

    @Option(names = "--compile-seconds", paramLabel = "S", defaultValue = "0",
            description = "Also time torch.compile on CUDA, after everything else, in a child process killed after S seconds"
                    + " (the rows it finished are kept; compiling takes tens of seconds per precision and batch). Default 0: not run.")
    int compileSeconds;

    @Option(names = "--time-budget", paramLabel = "S",
            description = "Wall-time budget of the whole run in seconds: the torch.compile peer, which runs last, gets only what is left"
                    + " of it less " + REPORT_RESERVE_SECONDS + " s for the report (the measurements before it are not cut short).")
    Integer timeBudget;

    /** Seconds kept after the compile peer for the report files. */
    private static final int REPORT_RESERVE_SECONDS = 15;

    @Option(names = "--gemm-script", defaultValue = "benchmarks/peers/cublas_gemms.py", paramLabel = "FILE",
            description = "The cuBLAS peer script, torch.mm on every pointwise GEMM beside CUDA (default benchmarks/peers/cublas_gemms.py).")
    Path gemmScript;

    @Option(names = "--peer-models", split = ",", defaultValue = "keras,timm", paramLabel = "M",
            description = "PyTorch models to run (default keras,timm): keras = our Keras-exact port, timm = timm's legacy_xception"
                    + " (reported unavailable where timm is not installed).")
    List<String> peerModels;

    @Option(names = "--compile-modes", split = ",", defaultValue = "default,max-autotune-no-cudagraphs", paramLabel = "MODE",
            description = "torch.compile modes for --compile-seconds (default: default,max-autotune-no-cudagraphs).")
    List<String> compileModes;

    @Option(names = "--compile-precision", split = ",", paramLabel = "P",
            description = "Precisions torch.compile runs in (default: every precision CUDA ran), e.g. bf16 when its budget is short.")
    List<String> compilePrecisions;

    @Option(names = "--peaks-script", defaultValue = "benchmarks/peers/card_peaks.py", paramLabel = "FILE",
            description = "The card-peak script: cuBLAS through torch.matmul and torch's copy, beside our kernels' probes on a GPU"
                    + " (default benchmarks/peers/card_peaks.py).")
    Path peaksScript;

    @Option(names = "--layer-script", defaultValue = "benchmarks/peers/cudnn_layers.py", paramLabel = "FILE",
            description = "The per-layer cuDNN peer: each fused launch's work in PyTorch eager on the GPU (default benchmarks/peers/cudnn_layers.py).")
    Path layerScript;

    @Option(names = "--note", paramLabel = "TEXT",
            description = "A line for the report's notes (repeatable), e.g. what a probe before the run found.")
    List<String> extraNotes;

    @Option(names = "--dry-run", description = "Count FLOPs and bytes of every launch (for --csv / --json); run nothing.")
    boolean dryRun;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the random weights and input (default 1).")
    long seed;

    @Option(names = "--from-json", paramLabel = "FILE",
            description = "Measure nothing: read a report written by --json and print it / write its --report, --plot, --csv files.")
    Path fromJson;

    /** Options that only say what to measure: meaningless beside --from-json. */
    private static final List<String> MEASURING = List.of("--backend", "--precision", "--batch", "--size", "--iterations", "--warmup",
            "--per-layer", "--remeasure", "--peaks-file", "--peers", "--python", "--peer-script", "--peer-threads", "--compile-seconds", "--time-budget", "--gemm-script",
            "--peer-models", "--compile-modes", "--compile-precision", "--peaks-script", "--layer-script", "--note", "--dry-run", "--seed");

    /**
     * Opens and closes every backend before anything is measured: a device index that does not exist
     * is a usage error. An unavailable kind is a runtime error with the probe's reason when every
     * backend asked for is unavailable; beside one that runs, the suite measures what it can and the
     * report says why the others did not run (an OpenCL driver missing on a CUDA machine, say).
     */
    private void checkBackends(List<String> names) {
        RuntimeException unavailable = null;
        int usable = 0;
        for (String name : names) {
            try (KernelBackend b = KernelBackend.open(name, Precision.FP32)) {
                b.synchronize();
                usable++;
            } catch (IllegalArgumentException e) {
                throw usage(e.getMessage());
            } catch (io.jxception.backend.BackendUnavailableException | UnsupportedOperationException e) {
                if (unavailable == null) unavailable = e;
            }
        }
        if (usable == 0 && unavailable != null) throw unavailable;
    }

    /** "default" and "max-autotune-no-cudagraphs" (--compile-modes) as the peer script's modes. */
    private List<String> scriptCompileModes() {
        List<String> out = new java.util.ArrayList<>();
        for (String m : compileModes) {
            String mode = m.strip();
            if (mode.equals("default") || mode.equals("compile")) out.add("compile");
            else if (mode.equals("max-autotune-no-cudagraphs")) out.add("compile:max-autotune-no-cudagraphs");
            else throw usage("--compile-modes: unknown mode '" + mode + "': expected default or max-autotune-no-cudagraphs");
        }
        return out;
    }

    @Override
    int execute() throws Exception {
        if (fromJson != null) {
            var parsed = spec.commandLine().getParseResult();
            List<String> given = MEASURING.stream().filter(parsed::hasMatchedOption).toList();
            if (!given.isEmpty()) throw usage("--from-json renders a saved report and measures nothing: drop " + String.join(", ", given));
            if (!java.nio.file.Files.isRegularFile(fromJson)) throw new java.io.FileNotFoundException("--from-json: no such file: " + fromJson);
            BenchReport report = JsonReport.read(fromJson);
            writeAll(report);
            return 0;
        }
        if (size < XceptionConfig.MIN_INPUT || size > XceptionConfig.MAX_INPUT) {
            throw usage("--size must be from " + XceptionConfig.MIN_INPUT + " to " + XceptionConfig.MAX_INPUT + ", got " + size);
        }
        for (int b : batches) if (b < 1) throw usage("--batch must be at least 1, got " + b);
        if (warmup != null && warmup < 0) throw usage("--warmup must be at least 0, got " + warmup);
        if (iterations != null && iterations < 1) throw usage("--iterations must be at least 1, got " + iterations);
        if (peerThreads != null && peerThreads < 1) throw usage("--peer-threads must be at least 1, got " + peerThreads);
        if (compileSeconds < 0) throw usage("--compile-seconds must be at least 0, got " + compileSeconds);
        if (timeBudget != null && timeBudget < 1) throw usage("--time-budget must be at least 1 s, got " + timeBudget);
        java.time.Instant compileBy = timeBudget == null ? null : java.time.Instant.now().plusSeconds(timeBudget - REPORT_RESERVE_SECONDS);
        for (String m : peerModels) if (!BenchOptions.PeerOptions.MODELS.contains(m)) throw usage("--peer-models: unknown model '" + m + "': expected keras or timm");
        List<String> compilePrecisionLabels = compilePrecisions == null ? List.of()
                : compilePrecisions.stream().map(p -> p.strip().toLowerCase(Locale.ROOT)).toList();
        for (String p : compilePrecisionLabels) {
            if (!List.of("fp32", "tf32", "bf16", "fp16").contains(p)) throw usage("--compile-precision: unknown precision '" + p + "'");
        }
        List<String> modes = scriptCompileModes();
        if (!dryRun) checkBackends(backends);
        boolean onlyCpu = backends.stream().allMatch(b -> b.equals("cpu"));
        BenchOptions options = new BenchOptions(backends, precisions, batches, size,
                iterations != null ? iterations : onlyCpu ? 3 : 10, warmup != null ? warmup : onlyCpu ? 1 : 2,
                perLayer, remeasure, peaksFile != null ? peaksFile : PeakCache.defaultFile(),
                new BenchOptions.PeerOptions(peers && !dryRun, python, peerScript,
                        peerThreads != null ? peerThreads : Runtime.getRuntime().availableProcessors(), compileSeconds, gemmScript, compileBy,
                        peerModels, modes, compilePrecisionLabels, peaksScript, layerScript), seed);
        String command = "jxception " + String.join(" ", spec.commandLine().getParseResult().originalArgs());
        BenchReport report;
        if (dryRun) {
            report = new BenchSuite(options, io.jxception.bench.Progress.NONE).countOnly(command);
        } else {
            try (io.jxception.progress.ProgressBar bar = new io.jxception.progress.ProgressBar(err(), "", 0, true,
                    io.jxception.progress.ProgressBar.TWO_SECONDS)) {
                report = new BenchSuite(options, io.jxception.bench.Progress.drawnBy(bar)).run(command);
            }
        }
        if (extraNotes != null) report = report.withNotesFirst(extraNotes);
        writeAll(report);
        if (!dryRun && report.throughput().isEmpty()) {
            throw new IllegalStateException("nothing was measured: " + String.join("; ", report.notes()));
        }
        return 0;
    }

    /** The tables on stdout and every file asked for. */
    private void writeAll(BenchReport report) throws java.io.IOException {
        PrintWriter out = out();
        print(out, report);
        if (csv != null) Csv.writeLayers(csv, report.layers(), report.gemmPeers(), report.layerPeers());
        if (json != null) JsonReport.write(json, report);
        if (plotDir != null) Plots.write(report, plotDir).forEach(p -> out.println("wrote    " + p));
        if (reportDir != null) ReportFiles.write(report, reportDir).forEach(p -> out.println("wrote    " + p));
        if (csv != null) out.println("wrote    " + csv);
        if (json != null) out.println("wrote    " + json);
        out.flush();
    }

    private void print(PrintWriter out, BenchReport r) {
        out.printf(Locale.ROOT, "model    Xception %dx%dx3, 1000 classes, random weights%s%n", r.options().size(), r.options().size(),
                fromJson != null ? " (report read from " + fromJson + ")" : " (seed " + seed + ")");
        if (!dryRun) {
            out.printf(Locale.ROOT, "machine  %s; load average %.2f before, %.2f after%n", r.machine(), r.loadBefore(), r.loadAfter());
        }
        for (Peaks p : r.peaks()) {
            out.printf(Locale.ROOT, "peaks    %s: %.1f GFLOP/s, %.1f GB/s (measured %s%s)%n", p.device(), p.flopsPerSecond() / 1e9,
                    p.bytesPerSecond() / 1e9, p.measuredAt(), r.peakSources().isEmpty() ? ""
                            : "; compute set by " + setBy(p.computeProbe()) + ", bandwidth by " + setBy(p.bandwidthProbe()));
        }
        if (!r.throughput().isEmpty()) {
            out.printf("%-10s %-9s %6s %10s %10s %11s %9s %11s %9s %13s  %s%n", "backend", "precision", "batch", "img/s", "best img/s", "ms/batch",
                    "GFLOP/s", "floor img/s", "of floor", "vs best torch", "best PyTorch row");
            for (ThroughputResult t : r.throughput()) {
                var best = PeerResult.best(r.peers(), t);
                out.printf(Locale.ROOT, "%-10s %-9s %6d %10s %10s %11.2f %9.1f %11s %9s %13s  %s%n", t.backend(), label(t.precision()), t.batch(),
                        rate(t.imagesPerSecond()), rate(t.bestImagesPerSecond()), t.forward().median() * 1e3, t.gflops(), rate(t.floorImagesPerSecond()),
                        percent(t.imagesPerSecond() / t.floorImagesPerSecond()),
                        best.map(p -> String.format(Locale.ROOT, "%.2fx", t.imagesPerSecond() / p.imagesPerSecond())).orElse("-"),
                        best.map(p -> p.model() + " " + p.mode()).orElse("-"));
            }
        }
        for (PeerResult p : r.peers()) {
            out.printf(Locale.ROOT, "peer     %s %s batch %d on %s: %s img/s (best %s), %.2f ms/batch%s%n", p.peer(), p.precision(), p.batch(),
                    p.device(), rate(p.imagesPerSecond()), rate(p.bestImagesPerSecond()), p.forward().median() * 1e3,
                    p.compiled() && Double.isFinite(p.firstCallSeconds()) ? String.format(Locale.ROOT, ", first call (compile) %.1f s", p.firstCallSeconds()) : "");
        }
        boolean timed = r.layers().stream().anyMatch(LayerResult::isTimed);
        if (timed || dryRun) printLayers(out, r.layers());
        var gemms = io.jxception.bench.SummaryReport.gemmTotals(r);
        if (!gemms.isEmpty()) {
            out.println("pointwise GEMMs against cuBLAS (ours: the whole fused launches; cuBLAS: their GEMMs alone; medians summed)");
            out.printf("%-22s %8s %10s %10s %13s %13s%n", "config", "launches", "ours ms", "cuBLAS ms", "ours/cuBLAS", "cuBLAS TFLOP/s");
            for (var g : gemms) {
                out.printf(Locale.ROOT, "%-22s %8d %10.3f %10.3f %12.2fx %13.1f%n", g.config(), g.launches(), g.oursSeconds() * 1e3,
                        g.peerSeconds() * 1e3, g.ratio(), g.peerTflops());
            }
        }
        for (String n : r.notes()) out.println("note     " + n);
    }

    /** The source that starts a card-peak probe string: "cuBLAS via torch.matmul" of "cuBLAS via torch.matmul: ...". */
    private static String setBy(String probe) {
        int colon = probe.indexOf(": ");
        return colon < 0 ? probe : probe.substring(0, colon);
    }

    private static void printLayers(PrintWriter out, List<LayerResult> rows) {
        String config = "";
        for (LayerResult l : rows) {
            String c = l.backend() + " " + label(l.precision()) + " batch " + l.batch();
            if (!c.equals(config)) {
                config = c;
                out.println();
                out.println("per launch: " + c);
                out.printf("%3s %-18s %-17s %-6s %12s %12s %10s %9s %8s %9s %8s %-7s%n", "#", "launch", "kernel", "stage", "MFLOP", "KB min",
                        "ms", "GFLOP/s", "GB/s", "floor ms", "of floor", "bound");
            }
            out.printf(Locale.ROOT, "%3d %-18s %-17s %-6s %12.1f %12.1f %10s %9s %8s %9s %8s %-7s%n", l.index(), l.node(), l.kernel().kernelName(),
                    l.stage().label(), l.cost().flops() / 1e6, l.cost().bytes() / 1e3,
                    l.isTimed() ? String.format(Locale.ROOT, "%.3f", l.time().median() * 1e3) : "-", // a report may mix timed and counted rows
                    l.isTimed() ? String.format(Locale.ROOT, "%.1f", l.gflops()) : "-", l.isTimed() ? String.format(Locale.ROOT, "%.1f", l.gbps()) : "-",
                    l.peaks() == null ? "-" : String.format(Locale.ROOT, "%.3f", l.floorSeconds() * 1e3),
                    l.isTimed() ? percent(l.floorFraction()) : "-", l.peaks() == null ? "-" : l.cost().bound(l.peaks()));
        }
        out.println();
    }

    private static String label(Precision p) { return p.name().toLowerCase(Locale.ROOT); }

    private static String percent(double fraction) {
        return Double.isFinite(fraction) ? String.format(Locale.ROOT, "%.1f%%", fraction * 100) : "-";
    }

    /** At least three significant digits, never an exponent: 0.0812, 8.12, 8123.4. */
    static String rate(double imagesPerSecond) {
        if (!Double.isFinite(imagesPerSecond)) return "-";
        if (imagesPerSecond >= 100) return String.format(Locale.ROOT, "%.1f", imagesPerSecond);
        return new java.math.BigDecimal(imagesPerSecond).round(new java.math.MathContext(3)).toPlainString();
    }
}
