package io.jxception.bench;

import io.jxception.internal.tensor.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The markdown summary of a report (benchmarks/results/SUMMARY-&lt;device&gt;-&lt;date&gt;.md), from
 * which the README's performance section is built: throughput beside the peers, the measured
 * peaks, time per stage and the launches furthest from their floor. Every number comes from the
 * report.
 */
public final class SummaryReport {
    private SummaryReport() {}

    /** @param plots the chart files, linked relative to the summary's folder */
    public static void write(Path file, BenchReport r, List<Path> plots) throws IOException {
        AtomicFiles.write(file, render(r, file.toAbsolutePath().getParent(), plots).getBytes(StandardCharsets.UTF_8));
    }

    static String render(BenchReport r, Path folder, List<Path> plots) {
        StringBuilder md = new StringBuilder();
        int size = r.options().size();
        md.append("# jxception benchmarks: ").append(r.deviceSlug()).append(", ").append(r.date()).append("\n\n");
        md.append("Produced by `").append(r.command()).append("` (").append(r.started()).append(" to ").append(r.finished()).append(").\n\n");
        md.append("Machine: ").append(r.machine()).append(". Load average (1 min) before / after the run: ")
                .append(f(r.loadBefore(), 2)).append(" / ").append(f(r.loadAfter(), 2))
                .append(" (compare numbers from one run, same machine, only; the \"load\" column is the 1-minute load average right after each row was measured).");
        List<String> devices = r.throughput().stream().map(ThroughputResult::device).distinct().toList();
        if (!devices.isEmpty()) md.append(" Measured on: ").append(String.join("; ", devices)).append('.');
        if (r.loadBefore() > r.machine().cores() || r.loadAfter() > r.machine().cores()) {
            md.append(" **The machine was busy** (load above its ").append(r.machine().cores())
                    .append(" cores): other processes took CPU time during the run, so every CPU number is lower than on an idle machine,")
                    .append(" by amounts that vary over the run; the \"best\" column (fastest repetition) is the least disturbed.");
        }
        md.append("\n\n");
        md.append("Method: random weights and inputs; ").append(r.options().warmup()).append(" warm-up forward passes, then the median of ")
                .append(r.options().iterations()).append(" timed ones, input already on the device, no transfers (the peers are timed the same way). ")
                .append("Per launch: one more forward pass per iteration with every fused launch timed alone, in graph order. ")
                .append("FLOPs = 2 × multiply-adds of the convolutions and the dense layer; minimum bytes = inputs read once + outputs written once + weights once; ")
                .append("floor = max(FLOPs / peak FLOP/s, bytes / bandwidth) with both peaks measured on the device by the suite")
                .append(r.peakSources().isEmpty() ? " (our kernels' best)" : " (the best of our kernels and the vendor's library: \"Card peaks\" below)").append(".\n\n");

        md.append("## Throughput (forward pass, ").append(size).append("×").append(size).append(")\n\n");
        md.append("| source | backend / peer | precision | batch | img/s (median) | img/s (best) | ms / batch | GFLOP/s | floor img/s | % of floor | ours / best PyTorch | best PyTorch row | load |\n");
        md.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|\n");
        for (ThroughputResult t : r.throughput()) {
            Optional<PeerResult> best = PeerResult.best(r.peers(), t);
            md.append("| jxception | ").append(t.backend()).append(" | ").append(BenchSuite.label(t.precision())).append(" | ").append(t.batch())
                    .append(" | ").append(f(t.imagesPerSecond(), 2)).append(" | ").append(f(t.bestImagesPerSecond(), 2))
                    .append(" | ").append(f(t.forward().median() * 1e3, 1))
                    .append(" | ").append(f(t.gflops(), 1)).append(" | ").append(f(t.floorImagesPerSecond(), 2))
                    .append(" | ").append(pct(t.imagesPerSecond() / t.floorImagesPerSecond()))
                    .append(" | ").append(best.map(p -> f(t.imagesPerSecond() / p.imagesPerSecond(), 2) + "× (best "
                            + f(t.bestImagesPerSecond() / p.bestImagesPerSecond(), 2) + "×)").orElse("–"))
                    .append(" | ").append(best.map(p -> p.model() + " " + p.mode()).orElse("–"))
                    .append(" | ").append(f(t.loadAverage(), 1)).append(" |\n");
        }
        long flopsPerImage = r.throughput().stream().findFirst().map(ThroughputResult::flopsPerImage).orElse(0L);
        for (PeerResult p : r.peers()) {
            md.append("| peer | ").append(p.peer()).append(" | ").append(p.precision()).append(" | ").append(p.batch())
                    .append(" | ").append(f(p.imagesPerSecond(), 2)).append(" | ").append(f(p.bestImagesPerSecond(), 2))
                    .append(" | ").append(f(p.forward().median() * 1e3, 1))
                    .append(" | ").append(flopsPerImage > 0 ? f(flopsPerImage * p.imagesPerSecond() / 1e9, 1) : "–").append(" | – | – | – | – | ")
                    .append(f(p.loadAverage(), 1)).append(" |\n");
        }
        md.append('\n');
        if (!r.peers().isEmpty()) {
            md.append("Peer rows: PyTorch running ").append(PeerResult.KERAS_PORT).append(" (our layer-for-layer port of Keras' Xception)")
                    .append(r.peers().stream().anyMatch(p -> p.model().equals(PeerResult.TIMM)) ? " or " + PeerResult.TIMM
                            + " (timm's Xception, the model PyTorch users run)" : "")
                    .append(", eager or torch.compile (its mode named), channels_last, cudnn.benchmark on CUDA; bf16 and fp16 through autocast. ")
                    .append("Peer GFLOP/s use our counted FLOPs per image (").append(f(flopsPerImage / 1e9, 3))
                    .append(" GFLOP), so every row is on the same scale. \"ours / best PyTorch\" divides our median img/s by the fastest PyTorch row")
                    .append(" (median img/s, any model and mode) of the same batch and precision on the same device (CUDA and OpenCL on a GPU against")
                    .append(" PyTorch CUDA on that card, CPU backends against PyTorch CPU), named in the next column; in brackets the same for the")
                    .append(" fastest repetitions. Above 1, we are faster.\n\n");
        }
        compileSection(md, r);
        peaksSection(md, r);

        Map<String, List<LayerResult>> configs = r.layers().stream().filter(LayerResult::isTimed)
                .collect(Collectors.groupingBy(l -> l.backend() + " " + BenchSuite.label(l.precision()) + " batch " + l.batch(),
                        LinkedHashMap::new, Collectors.toList()));
        if (!configs.isEmpty()) {
            md.append("## Where the time goes, per stage\n\n");
            md.append("entry = stem + blocks 2–4, middle = blocks 5–12, exit = blocks 13–14 + head.\n\n");
            md.append("| config | stage | launches | GFLOP | median ms | share | floor ms | % of floor |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
            for (Map.Entry<String, List<LayerResult>> e : configs.entrySet()) {
                double total = e.getValue().stream().mapToDouble(l -> l.time().median()).sum();
                for (Stage s : Stage.values()) {
                    List<LayerResult> sel = e.getValue().stream().filter(l -> l.stage() == s).toList();
                    double t = sel.stream().mapToDouble(l -> l.time().median()).sum();
                    double floor = sel.stream().mapToDouble(LayerResult::floorSeconds).sum();
                    double gflop = sel.stream().mapToLong(l -> l.cost().flops()).sum() / 1e9;
                    md.append("| ").append(e.getKey()).append(" | ").append(s.label()).append(" | ").append(sel.size()).append(" | ").append(f(gflop, 2))
                            .append(" | ").append(f(t * 1e3, 2)).append(" | ").append(pct(t / total)).append(" | ").append(f(floor * 1e3, 2))
                            .append(" | ").append(pct(floor / t)).append(" |\n");
                }
                double floor = e.getValue().stream().mapToDouble(LayerResult::floorSeconds).sum();
                md.append("| ").append(e.getKey()).append(" | **all** | ").append(e.getValue().size()).append(" | ")
                        .append(f(e.getValue().stream().mapToLong(l -> l.cost().flops()).sum() / 1e9, 2)).append(" | ").append(f(total * 1e3, 2))
                        .append(" | 100% | ").append(f(floor * 1e3, 2)).append(" | ").append(pct(floor / total)).append(" |\n");
            }
            md.append('\n');
            md.append("## Launches with the most time above their floor\n\n");
            md.append("| config | launch | kernel | median ms | GFLOP/s | GB/s | floor ms | % of floor | bound |\n|---|---|---|---:|---:|---:|---:|---:|---|\n");
            for (Map.Entry<String, List<LayerResult>> e : configs.entrySet()) {
                e.getValue().stream().sorted(Comparator.comparingDouble((LayerResult l) -> l.time().median() - (l.peaks() == null ? 0 : l.floorSeconds())).reversed()).limit(6)
                        .forEach(l -> md.append("| ").append(e.getKey()).append(" | ").append(l.node()).append(" | ").append(l.kernel().kernelName())
                                .append(" | ").append(f(l.time().median() * 1e3, 3)).append(" | ").append(f(l.gflops(), 1)).append(" | ").append(f(l.gbps(), 1))
                                .append(" | ").append(f(l.floorSeconds() * 1e3, 3)).append(" | ").append(pct(l.floorFraction()))
                                .append(" | ").append(l.peaks() == null ? "–" : l.cost().bound(l.peaks())).append(" |\n"));
            }
            md.append('\n');
        }

        gemmSection(md, r);
        layerPeerSection(md, r);

        if (!plots.isEmpty()) {
            md.append("## Plots\n\n");
            for (Path p : plots) {
                String rel = folder == null ? p.toString() : folder.relativize(p.toAbsolutePath()).toString();
                md.append("![").append(p.getFileName()).append("](").append(rel.replace('\\', '/')).append(")\n\n");
            }
        }
        if (!r.notes().isEmpty()) {
            md.append("## Notes\n\n");
            for (String n : r.notes()) md.append("- ").append(n).append('\n');
            md.append('\n');
        }
        return md.toString();
    }

    /** "torch.compile": each compiled row with its first call (compile + one forward), and why runs stopped. */
    static void compileSection(StringBuilder md, BenchReport r) {
        List<PeerResult> compiled = r.peers().stream().filter(PeerResult::compiled).toList();
        List<String> why = r.notes().stream().filter(n -> n.startsWith("peer") && n.contains("pytorch") && n.contains(" compile")).toList();
        if (compiled.isEmpty() && why.isEmpty()) return;
        md.append("## torch.compile\n\n");
        if (!compiled.isEmpty()) {
            md.append("One child process per model × mode × precision, batch sizes largest first, one compiled callable for all of them ")
                    .append("(dynamo keeps a graph per batch size; inductor's caches are shared). \"first call\" is the wall time of the first ")
                    .append("call at that batch size: compiling plus one forward (empty in reports before 2026-12).\n\n");
            md.append("| model | mode | precision | batch | first call s | img/s (median) | ms / batch |\n|---|---|---|---:|---:|---:|---:|\n");
            for (PeerResult p : compiled) {
                md.append("| ").append(p.model()).append(" | ").append(p.mode()).append(" | ").append(p.precision()).append(" | ").append(p.batch())
                        .append(" | ").append(f(p.firstCallSeconds(), 1)).append(" | ").append(f(p.imagesPerSecond(), 2))
                        .append(" | ").append(f(p.forward().median() * 1e3, 1)).append(" |\n");
            }
            md.append('\n');
        }
        for (String n : why) md.append("- ").append(n).append('\n');
        if (!why.isEmpty()) md.append('\n');
    }

    /**
     * The ceilings every "% of floor" is measured against: with card-peak sources (2026-12 on) each
     * configuration's ceilings and the probe that set each, then every probe; in older reports the
     * ceilings of our own kernels.
     */
    static void peaksSection(StringBuilder md, BenchReport r) {
        if (r.peakSources().isEmpty()) {
            md.append("## Measured peaks\n\n");
            md.append("These ceilings are the best rates of our own kernels on the device, measured by the suite (compute: the fastest of three large ")
                    .append("separable-conv launches, a GEMM in all but name, reading activations already in the precision's storage; bandwidth: our addInPlace ")
                    .append("on fp32 buffers, the same ceiling in every precision), not the card's data-sheet peak or a vendor library's: ")
                    .append("100% of floor means as fast as our best kernel, not as fast as the hardware can go.\n\n");
            md.append("| device | GFLOP/s | GB/s | ridge FLOP/B | compute probe | bandwidth probe | measured |\n|---|---:|---:|---:|---|---|---|\n");
            for (Peaks p : r.peaks()) {
                md.append("| ").append(p.device()).append(" | ").append(f(p.flopsPerSecond() / 1e9, 1)).append(" | ").append(f(p.bytesPerSecond() / 1e9, 1))
                        .append(" | ").append(f(p.ridgeIntensity(), 1)).append(" | ").append(p.computeProbe()).append(" | ").append(p.bandwidthProbe())
                        .append(" | ").append(p.measuredAt()).append(" |\n");
            }
            md.append('\n');
            return;
        }
        md.append("## Card peaks (the roofline's ceilings)\n\n");
        md.append("Each configuration's compute ceiling is the fastest probe on the same card in the same precision: our kernels' ")
                .append("(PeakMeter's large separable-conv launches, a GEMM in all but name, on every backend measured on that card) and, on a GPU, ")
                .append("cuBLAS through torch.matmul on large square matrices. The bandwidth ceiling is the fastest of our addInPlace and torch's ")
                .append("device-to-device copy_ on that card, in every precision (DRAM bandwidth is the device's). Every \"% of floor\" in this page ")
                .append("is against these: 100% means as fast as the card was seen to go, by us or by the vendor's library.\n\n");
        md.append("| configuration | GFLOP/s | GB/s | ridge FLOP/B | compute ceiling set by | bandwidth ceiling set by |\n|---|---:|---:|---:|---|---|\n");
        for (Peaks p : r.peaks()) {
            md.append("| ").append(p.device()).append(" | ").append(f(p.flopsPerSecond() / 1e9, 1)).append(" | ").append(f(p.bytesPerSecond() / 1e9, 1))
                    .append(" | ").append(f(p.ridgeIntensity(), 1)).append(" | ").append(p.computeProbe()).append(" | ").append(p.bandwidthProbe())
                    .append(" |\n");
        }
        md.append("\nEvery probe:\n\n| card | precision | source | GFLOP/s | GB/s | measured |\n|---|---|---|---:|---:|---|\n");
        for (CardPeaks.Source s : r.peakSources()) {
            md.append("| ").append(s.card()).append(" | ").append(s.precision()).append(" | ").append(s.source()).append(" | ")
                    .append(f(s.flopsPerSecond() / 1e9, 1)).append(" | ").append(f(s.bytesPerSecond() / 1e9, 1)).append(" | ")
                    .append(s.measuredAt()).append(" |\n");
        }
        md.append('\n');
        r.notes().stream().filter(n -> n.startsWith("card peaks")).forEach(n -> md.append("- ").append(n).append('\n'));
        if (r.notes().stream().anyMatch(n -> n.startsWith("card peaks"))) md.append('\n');
    }

    /**
     * "Per launch on the GPU": at the largest batch, for each precision, every GPU backend's fused
     * launches side by side (CUDA and OpenCL on one card) beside PyTorch eager doing each launch's
     * work (cuDNN convolutions), and the totals per configuration.
     */
    static void layerPeerSection(StringBuilder md, BenchReport r) {
        List<LayerResult> gpuRows = r.layers().stream().filter(l -> l.isTimed() && CardPeaks.isGpu(l.device())).toList();
        if (gpuRows.isEmpty()) return;
        List<String> backends = gpuRows.stream().map(LayerResult::backend).distinct().toList();
        if (r.layerPeers().isEmpty() && backends.size() < 2) {
            List<String> why = r.notes().stream().filter(n -> n.startsWith("cuDNN per layer")).toList();
            if (!why.isEmpty()) md.append("## Per launch beside cuDNN\n\n").append(String.join("\n\n", why)).append("\n\n");
            return;
        }
        // the peers' sources in the order recorded: "cudnn" (PyTorch eager), "cudnn9-jvm" (cuDNN's legacy API from this JVM)
        List<String> sources = r.layerPeers().stream().map(LayerPeerResult::source).distinct().toList();
        md.append("## Per launch on the GPU: ").append(String.join(", ", backends)).append(r.layerPeers().isEmpty() ? "" : " and cuDNN").append("\n\n");
        if (!r.layerPeers().isEmpty()) {
            md.append("The cuDNN columns do the launch's work alone on the same card (").append(r.layerPeers().stream()
                            .map(LayerPeerResult::peer).distinct().collect(Collectors.joining("; ")))
                    .append("), repeated on one input (ours come from whole forwards). ");
            if (sources.contains(LayerPeerResult.TORCH_SOURCE)) {
                md.append("\"cuDNN\" is PyTorch eager: cuDNN's convolutions plus PyTorch's batch norm, ReLU, add and pooling kernels, each a launch of its own. ");
            }
            if (sources.contains(CudnnPeer.PEER)) {
                md.append("\"cuDNN 9 (JVM)\" is cuDNN's legacy API called from this JVM through the JavaCPP CUDA 13 preset: every step a cuDNN call ")
                        .append("(convolutions with the algorithm cudnnFind picked, batch norm, activation, add, pooling, softmax). ");
            }
            md.append("\"ours / cuDNN\" = our median / its median: above 1, the peer is faster. ")
                    .append("JCudnn 11.7.0 would need cuDNN 8; these machines have cuDNN 9 (benchmarks/README.md).\n\n");
            md.append("| config | peer | launches | our ms (fused launches) | peer ms (same work) | ours / peer |\n|---|---|---:|---:|---:|---:|\n");
            for (String source : sources) {
                Map<String, double[]> totals = new LinkedHashMap<>(); // config -> launches, ours, peer
                for (LayerResult l : gpuRows) {
                    Optional<LayerPeerResult> p = LayerPeerResult.of(r.layerPeers(), l, source);
                    if (p.isEmpty()) continue;
                    double[] t = totals.computeIfAbsent(l.backend() + " " + BenchSuite.label(l.precision()) + " batch " + l.batch(), k -> new double[3]);
                    t[0]++;
                    t[1] += l.time().median();
                    t[2] += p.get().time().median();
                }
                totals.forEach((config, t) -> md.append("| ").append(config).append(" | ").append(sourceLabel(source)).append(" | ").append((int) t[0])
                        .append(" | ").append(f(t[1] * 1e3, 3)).append(" | ").append(f(t[2] * 1e3, 3)).append(" | ").append(f(t[1] / t[2], 2)).append("× |\n"));
            }
            md.append('\n');
        }
        int largest = gpuRows.stream().mapToInt(LayerResult::batch).max().orElse(0);
        for (String precision : gpuRows.stream().filter(l -> l.batch() == largest).map(l -> BenchSuite.label(l.precision())).distinct().toList()) {
            List<LayerResult> sel = gpuRows.stream().filter(l -> l.batch() == largest && BenchSuite.label(l.precision()).equals(precision)).toList();
            List<String> cols = sel.stream().map(LayerResult::backend).distinct().toList();
            List<String> present = sources.stream().filter(s -> sel.stream().anyMatch(l -> LayerPeerResult.of(r.layerPeers(), l, s).isPresent())).toList();
            if (cols.size() < 2 && present.isEmpty()) continue;
            md.append("Per launch, ").append(precision).append(", batch ").append(largest).append(" (median ms):\n\n| # | launch |");
            for (String c : cols) md.append(' ').append(c).append(" |");
            for (String s : present) md.append(' ').append(sourceLabel(s)).append(" |");
            for (String s : present) for (String c : cols) md.append(' ').append(c).append(" / ").append(sourceLabel(s)).append(" |");
            if (!present.isEmpty()) md.append(" peer ops |");
            md.append("\n|---:|---|").append("---:|".repeat(cols.size() + present.size() * (1 + cols.size()))).append(present.isEmpty() ? "" : "---|").append('\n');
            Map<Integer, List<LayerResult>> byIndex = sel.stream().collect(Collectors.groupingBy(LayerResult::index, java.util.TreeMap::new, Collectors.toList()));
            for (var e : byIndex.entrySet()) {
                md.append("| ").append(e.getKey()).append(" | ").append(e.getValue().get(0).node()).append(" |");
                for (String c : cols) {
                    md.append(' ').append(e.getValue().stream().filter(l -> l.backend().equals(c)).findFirst().map(l -> f(l.time().median() * 1e3, 3)).orElse("–")).append(" |");
                }
                List<Optional<LayerPeerResult>> prs = present.stream()
                        .map(s -> e.getValue().stream().map(l -> LayerPeerResult.of(r.layerPeers(), l, s)).flatMap(Optional::stream).findFirst()).toList();
                for (Optional<LayerPeerResult> pr : prs) md.append(' ').append(pr.map(x -> f(x.time().median() * 1e3, 3)).orElse("–")).append(" |");
                for (Optional<LayerPeerResult> pr : prs) {
                    for (String c : cols) {
                        Optional<LayerResult> l = e.getValue().stream().filter(x -> x.backend().equals(c)).findFirst();
                        md.append(' ').append(l.isPresent() && pr.isPresent() ? f(LayerPeerResult.ratio(l.get(), pr.get()), 2) + "×" : "–").append(" |");
                    }
                }
                if (!present.isEmpty()) {
                    md.append(' ').append(prs.stream().flatMap(Optional::stream).findFirst().map(LayerPeerResult::ops).orElse("–")).append(" |");
                }
                md.append('\n');
            }
            md.append('\n');
        }
        r.notes().stream().filter(n -> n.startsWith("cuDNN per layer (JVM)")).forEach(n -> md.append("- ").append(n).append('\n'));
        if (r.notes().stream().anyMatch(n -> n.startsWith("cuDNN per layer (JVM)"))) md.append('\n');
    }

    /** A layer peer's column name: "cuDNN" (PyTorch eager, the first peer built) or "cuDNN 9 (JVM)". */
    private static String sourceLabel(String source) {
        return source.equals(CudnnPeer.PEER) ? "cuDNN 9 (JVM)" : "cuDNN";
    }

    /**
     * "Pointwise GEMMs against cuBLAS": per CUDA configuration the time of the launches that hold a
     * pointwise GEMM beside cuBLAS's time for those GEMMs alone, then per launch at the largest batch.
     */
    static void gemmSection(StringBuilder md, BenchReport r) {
        if (r.gemmPeers().isEmpty() && r.throughput().stream().noneMatch(t -> t.backend().startsWith("cuda"))) return; // cuBLAS runs beside CUDA only
        md.append("## Pointwise GEMMs against cuBLAS\n\n");
        if (r.gemmPeers().isEmpty()) {
            List<String> why = r.notes().stream().filter(n -> n.startsWith("cuBLAS")).toList();
            md.append(why.isEmpty() ? "No cuBLAS peer ran (it runs with --peers beside CUDA).\n\n" : String.join("\n\n", why) + "\n\n");
            return;
        }
        md.append("Each separable conv's pointwise half and each 1×1 residual conv is a GEMM C (M × N) = A (M × K) · B (K × N), M = batch × H × W, ")
                .append("N = Cout, K = Cin. The peer times that GEMM alone (")
                .append(r.gemmPeers().stream().map(GemmPeerResult::peer).distinct().collect(Collectors.joining("; ")))
                .append(") in the same precision: fp32 strict, tf32 tensor cores, bf16 in and out with fp32 accumulation. ")
                .append("\"ours / cuBLAS\" = our fused launch's median time / cuBLAS's GEMM median time: our launch also does the depthwise conv, ")
                .append("batch norm, residual and ReLU, so 1.0 means our whole launch costs what cuBLAS needs for its GEMM alone; above 1, cuBLAS is faster.\n\n");
        md.append("| config | launches | our ms (fused launches) | cuBLAS ms (GEMMs alone) | ours / cuBLAS | cuBLAS GEMM TFLOP/s |\n|---|---:|---:|---:|---:|---:|\n");
        for (GemmTotal t : gemmTotals(r)) {
            md.append("| ").append(t.config()).append(" | ").append(t.launches()).append(" | ").append(f(t.oursSeconds() * 1e3, 3))
                    .append(" | ").append(f(t.peerSeconds() * 1e3, 3)).append(" | ").append(f(t.ratio(), 2)).append("× | ")
                    .append(f(t.peerTflops(), 1)).append(" |\n");
        }
        md.append('\n');
        int largest = r.gemmPeers().stream().mapToInt(GemmPeerResult::batch).max().orElse(0);
        List<String> precisions = r.gemmPeers().stream().filter(g -> g.batch() == largest).map(GemmPeerResult::precision).distinct().toList();
        List<LayerResult> rows = r.layers().stream().filter(l -> l.batch() == largest && l.isTimed() && GemmPeerResult.of(r.gemmPeers(), l).isPresent()).toList();
        if (rows.isEmpty()) return;
        md.append("Per launch at batch ").append(largest).append(" (ms: ours / cuBLAS, and the ratio):\n\n| launch | M × N × K |");
        for (String p : precisions) md.append(' ').append(p).append(" ours | ").append(p).append(" cuBLAS | ").append(p).append(" ratio |");
        md.append("\n|---|---|").append("---:|---:|---:|".repeat(precisions.size())).append('\n');
        Map<Integer, String> shapes = new LinkedHashMap<>();
        for (LayerResult l : rows) {
            GemmPeerResult g = GemmPeerResult.of(r.gemmPeers(), l).orElseThrow();
            shapes.putIfAbsent(l.index(), l.node() + " | " + g.m() + " × " + g.n() + " × " + g.k());
        }
        for (Map.Entry<Integer, String> s : shapes.entrySet()) {
            md.append("| ").append(s.getValue()).append(" |");
            for (String p : precisions) {
                Optional<LayerResult> l = rows.stream().filter(x -> x.index() == s.getKey() && BenchSuite.label(x.precision()).equals(p)).findFirst();
                Optional<GemmPeerResult> g = l.flatMap(x -> GemmPeerResult.of(r.gemmPeers(), x));
                md.append(' ').append(l.map(x -> f(x.time().median() * 1e3, 3)).orElse("–")).append(" | ")
                        .append(g.map(x -> f(x.time().median() * 1e3, 3)).orElse("–")).append(" | ")
                        .append(g.map(x -> f(GemmPeerResult.ratio(l.get(), x), 2) + "×").orElse("–")).append(" |");
            }
            md.append('\n');
        }
        md.append('\n');
    }

    /** One CUDA configuration's launches that hold a pointwise GEMM: our summed median times and cuBLAS's for the GEMMs alone. */
    public record GemmTotal(String config, int launches, double oursSeconds, double peerSeconds, double gemmFlops) {
        public double ratio() { return oursSeconds / peerSeconds; }

        public double peerTflops() { return gemmFlops / peerSeconds / 1e12; }
    }

    /** {@link GemmTotal}s in report order: timed CUDA layer rows that have a cuBLAS peer. */
    public static List<GemmTotal> gemmTotals(BenchReport r) {
        Map<String, double[]> sums = new LinkedHashMap<>(); // config -> launches, ours, peer, flops
        for (LayerResult l : r.layers()) {
            Optional<GemmPeerResult> g = GemmPeerResult.of(r.gemmPeers(), l);
            if (!l.isTimed() || g.isEmpty()) continue;
            double[] s = sums.computeIfAbsent(l.backend() + " " + BenchSuite.label(l.precision()) + " batch " + l.batch(), k -> new double[4]);
            s[0]++;
            s[1] += l.time().median();
            s[2] += g.get().time().median();
            s[3] += 2.0 * g.get().m() * g.get().n() * g.get().k();
        }
        return sums.entrySet().stream().map(e -> new GemmTotal(e.getKey(), (int) e.getValue()[0], e.getValue()[1], e.getValue()[2], e.getValue()[3])).toList();
    }

    private static String f(double v, int decimals) {
        if (Double.isNaN(v)) return "–";
        return String.format(Locale.ROOT, "%,." + decimals + "f", v);
    }

    private static String pct(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? "–" : String.format(Locale.ROOT, "%.1f%%", v * 100);
    }
}
