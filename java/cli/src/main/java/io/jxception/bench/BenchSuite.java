package io.jxception.bench;

import io.jxception.internal.backend.BackendProviders;
import io.jxception.internal.exec.ForwardSession;
import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.backend.BackendProvider;
import io.jxception.backend.BackendUnavailableException;
import io.jxception.backend.Backends;
import io.jxception.backend.DeviceMemoryException;
import io.jxception.backend.Precision;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;

/**
 * The kernel comparison suite: for every backend × precision × batch it times whole forward passes
 * and, with {@code perLayer}, every fused launch alone, against the device's measured peaks
 * (cached per device), and the peers at the same batch right after. Methodology, as the report
 * states it:
 * <ul>
 * <li>random weights and inputs (speed does not depend on the values); the first forward runs
 *     through {@link ForwardSession#run}, which checks the output is finite;</li>
 * <li>{@code warmup} untimed forwards, then {@code iterations} timed ones with the
 *     {@link DeviceClock} (device events where the backend has them), input already on the
 *     device; the median is reported;</li>
 * <li>per layer: {@code iterations} more forwards, each launch timed on its own in graph order, so
 *     every launch sees the caches its predecessor left, as in a real forward.</li>
 * </ul>
 * The report has one {@link LayerResult} per fused launch of every measured configuration,
 * timed with {@code perLayer}, counts only without.
 */
public final class BenchSuite {
    private final BenchOptions options;
    private final Progress progress;
    private final List<String> notes = new ArrayList<>();
    private final List<Peaks> peaks = new ArrayList<>();
    private final List<ThroughputResult> throughput = new ArrayList<>();
    private final List<LayerResult> layers = new ArrayList<>();
    private final List<GemmPeerResult> gemmPeers = new ArrayList<>();
    private final List<CardPeaks.Source> peakSources = new ArrayList<>();
    private final List<LayerPeerResult> layerPeers = new ArrayList<>();
    private final Set<String> unavailablePeers = new java.util.HashSet<>();
    private final CublasSources cublasSources;

    public BenchSuite(BenchOptions options, Progress progress) {
        this.options = options;
        this.progress = progress;
        this.cublasSources = new CublasSources((gemms, precisions, batch, warmup, iterations) -> GemmPeerRunner.run(options.peers(), "cuda", gemms,
                precisions, batch, warmup, iterations, GEMM_PEER_BUDGET_SECONDS), CublasPeer::open);
    }

    /** The graph the suite measures: Keras' ImageNet Xception at the given input size. */
    public static XceptionGraph graph(int size) {
        return XceptionGraph.build(XceptionConfig.imagenet().withInputSize(size, size));
    }

    public BenchReport run(String command) {
        Instant started = Instant.now();
        double loadBefore = Machine.loadAverage();
        checkBackendNames();
        XceptionGraph graph = graph(options.size());
        XceptionWeights weights = XceptionWeights.random(graph, options.seed());
        PeakCache cache = PeakCache.load(options.peaksFile(), notes::add);
        // progress counts images through forward passes, so a batch of 8 weighs 8 times a batch of 1
        long forwardsPerBatch = 1 + options.warmup() + options.iterations() + (options.perLayer() ? options.iterations() : 0);
        long imagesPerConfig = forwardsPerBatch * options.batches().stream().mapToLong(Integer::longValue).sum();
        progress.addTotal((long) options.backends().size() * options.precisions().size() * imagesPerConfig);
        List<Opened> opened = new ArrayList<>();
        List<PeerResult> peerResults = new ArrayList<>();
        try {
            for (String name : options.backends()) {
                for (Precision precision : options.precisions()) {
                    Opened o = open(name, precision, cache);
                    if (o == null) progress.advance(imagesPerConfig, name + " " + label(precision) + " unavailable");
                    else opened.add(o);
                }
            }
            opened = ceilings(opened, cache);
            // Batch by batch, every backend and then the peers: on a shared machine, numbers that are
            // compared are measured minutes apart at most, not at the two ends of a long run.
            for (int batch : options.batches()) {
                for (Opened o : opened) measure(o.backend, o.clock, o.peaks, graph, weights, batch, forwardsPerBatch * batch);
                peerResults.addAll(runPeers(graph, batch));
            }
            peerResults.addAll(runCompilePeers(graph));
        } finally {
            for (int i = opened.size() - 1; i >= 0; i--) opened.get(i).backend.close();
        }
        return new BenchReport(options, command, Machine.here(), started, Instant.now(), loadBefore, Machine.loadAverage(),
                peaks, throughput, layers, peerResults, gemmPeers, notes, peakSources, layerPeers);
    }

    /**
     * Every opened backend with the ceilings of its card in its precision: the best of our kernels'
     * probes on that card (every backend's, CUDA and OpenCL alike) and the vendor probes
     * ({@link CardPeaks}); the report keeps every source.
     */
    private List<Opened> ceilings(List<Opened> opened, PeakCache cache) {
        List<CardPeaks.Source> sources = new ArrayList<>();
        for (Opened o : opened) if (o.peaks != null) sources.add(CardPeaks.Source.ours(o.backend.name(), label(o.backend.precision()), o.peaks));
        sources.addAll(vendorSources(opened, cache));
        peakSources.addAll(sources);
        List<Opened> out = new ArrayList<>();
        for (Opened o : opened) {
            Peaks p = CardPeaks.select(o.backend.description(), label(o.backend.precision()), sources).orElse(o.peaks);
            if (p != null) peaks.add(p);
            out.add(new Opened(o.backend, o.clock, p));
        }
        return out;
    }

    /**
     * The vendor's ceilings (cuBLAS through torch.matmul, torch's copy) on the GPUs among the opened
     * backends, in their precisions: from the cache, or measured once by the card-peak script. Only
     * with the peers; none for CPUs.
     */
    private List<CardPeaks.Source> vendorSources(List<Opened> opened, PeakCache cache) {
        if (!options.peers().enabled() || options.peers().peaksScript() == null) return List.of();
        java.util.Map<String, Set<String>> wanted = new java.util.LinkedHashMap<>(); // card -> precisions
        for (Opened o : opened) {
            if (!o.backend.name().startsWith("cuda") && !CardPeaks.isGpu(o.backend.description())) continue;
            wanted.computeIfAbsent(CardPeaks.card(o.backend.description()), k -> new LinkedHashSet<>()).add(label(o.backend.precision()));
        }
        if (wanted.isEmpty()) return List.of();
        List<CardPeaks.Source> cached = new ArrayList<>();
        boolean all = !options.remeasure();
        for (var e : wanted.entrySet()) {
            for (String p : e.getValue()) {
                var hit = cache.get(CardPeaks.cacheName(e.getKey(), p));
                if (hit.isPresent()) cached.addAll(CardPeaks.fromCache(e.getKey(), p, hit.get()));
                else all = false;
            }
        }
        if (all) return cached;
        Set<String> precisions = new LinkedHashSet<>();
        wanted.values().forEach(precisions::addAll);
        progress.advance(0, "card peaks: torch.matmul (cuBLAS) and torch copy_");
        CardPeaks.Outcome r = CardPeaks.measure(options.peers(), new ArrayList<>(precisions), CardPeaks.BUDGET_SECONDS);
        r.notes().forEach(this::note);
        Set<String> cards = new LinkedHashSet<>();
        for (CardPeaks.Source s : r.sources()) cards.add(s.card());
        for (String card : cards) {
            if (!wanted.containsKey(card)) {
                note("card peaks: torch's device '" + card + "' is none of the cards measured (" + String.join(", ", wanted.keySet())
                        + "): its probes set no ceiling");
                continue;
            }
            for (String p : wanted.get(card)) CardPeaks.toCache(r.sources(), card, p).ifPresent(cache::put);
        }
        return r.sources();
    }

    private record Opened(KernelBackend backend, DeviceClock clock, Peaks peaks) {}

    /** Opens a backend and finds its peaks (cached or measured); null, with a note, when it cannot run here. */
    private Opened open(String name, Precision precision, PeakCache cache) {
        String what = name + " " + label(precision);
        KernelBackend backend;
        try {
            backend = KernelBackend.open(name, precision);
        } catch (BackendUnavailableException | UnsupportedOperationException | IllegalArgumentException e) {
            notes.add(what + " unavailable: " + e.getMessage());
            return null;
        }
        DeviceClock clock = DeviceClock.of(backend);
        Peaks p = null;
        try {
            p = peaksFor(backend, clock, cache);
        } catch (RuntimeException e) {
            notes.add(what + ": peaks not measured (" + firstLine(e) + "); no floors for it");
        }
        if (backend.name().equals("cpu")) {
            note("cpu: the Java reference stores float64; its bytes and GB/s are counted at the fp32 size like every"
                    + " fp32 backend's (half of what it moves), which leaves its floors unchanged (peak bandwidth is counted the same way)");
        }
        return new Opened(backend, clock, p);
    }

    private void note(String n) {
        if (!notes.contains(n)) notes.add(n);
    }

    /**
     * The per-launch rows without running anything: FLOPs and minimum bytes of every fused launch
     * for each backend name × precision × batch (the device column says "not run").
     */
    public BenchReport countOnly(String command) {
        Instant started = Instant.now();
        XceptionGraph graph = graph(options.size());
        for (String name : options.backends()) {
            for (Precision precision : options.precisions()) {
                for (int batch : options.batches()) layers.addAll(LayerResult.count(graph, batch, precision, name, "not run"));
            }
        }
        notes.add("counts only (--dry-run): nothing was run or timed");
        return new BenchReport(options, command, Machine.here(), started, Instant.now(), Double.NaN, Double.NaN,
                peaks, throughput, layers, List.of(), List.of(), notes);
    }

    private void checkBackendNames() {
        Set<String> kinds = new LinkedHashSet<>(List.of("auto"));
        for (BackendProvider p : BackendProviders.all()) kinds.add(p.kind());
        for (String name : options.backends()) {
            String kind = name.trim().toLowerCase(Locale.ROOT).replaceFirst(":.*", "");
            if (!kinds.contains(kind)) {
                throw new IllegalArgumentException("unknown backend '" + name + "': this build knows " + String.join(", ", kinds));
            }
        }
    }

    private Peaks peaksFor(KernelBackend backend, DeviceClock clock, PeakCache cache) {
        if (!options.remeasure()) {
            var cached = cache.get(backend.description());
            if (cached.isPresent()) return cached.get();
        }
        progress.addTotal(PeakMeter.progressUnits());
        Peaks p = new PeakMeter(backend, clock, progress).measure();
        cache.put(p);
        return p;
    }

    /** One backend at one batch size; {@code units}: the progress it reports (images through forwards). */
    private void measure(KernelBackend backend, DeviceClock clock, Peaks p, XceptionGraph graph, XceptionWeights weights,
                         int batch, long units) {
        String what = backend.name() + " " + label(backend.precision()) + " batch " + batch;
        long[] advanced = {0};
        Progress counted = new Progress() {
            @Override public void addTotal(long u) { progress.addTotal(u); }

            @Override public void advance(long forwards, String doing) {
                advanced[0] += forwards * batch;
                progress.advance(forwards * batch, what + ": " + doing);
            }
        };
        try (ForwardSession session = new ForwardSession(backend, weights, batch)) {
            measure(session, clock, p, graph, batch, counted);
        } catch (DeviceMemoryException e) {
            notes.add(what + " skipped: " + e.getMessage());
        } catch (RuntimeException e) {
            // one failing configuration (a kernel that does not build, a numeric fault) must not lose the others
            notes.add(what + " failed: " + firstLine(e));
        }
        progress.advance(units - advanced[0], what + " done");
    }

    private void measure(ForwardSession session, DeviceClock clock, Peaks p, XceptionGraph graph, int batch, Progress progress) {
        KernelBackend backend = session.backend();
        Tensor input = randomInput(session, batch);
        progress.advance(0, "first forward");
        session.run(input); // checks the output is finite
        progress.advance(1, "warm-up");
        Runnable forward = () -> session.enqueueForward(batch, null);
        for (int i = 0; i < options.warmup(); i++) {
            session.upload(input); // every forward gets its input: later values reuse the input's slot
            clock.seconds(forward);
            progress.advance(1, "warm-up");
        }
        double[] seconds = new double[options.iterations()];
        for (int i = 0; i < seconds.length; i++) {
            session.upload(input); // not timed: the clock synchronizes before it starts
            seconds[i] = clock.seconds(forward);
            progress.advance(1, "forward " + (i + 1) + "/" + seconds.length);
        }
        double load = Machine.loadAverage();
        List<LayerResult> rows = LayerResult.count(graph, batch, backend.precision(), backend.name(), backend.description());
        if (options.perLayer()) rows = timeLayers(session, input, clock, p, rows, batch, progress);
        session.output(batch); // the timed passes still end in a finite output
        long flopsPerImage = rows.stream().mapToLong(r -> r.cost().flops()).sum() / batch;
        double floor = p == null ? Double.NaN : rows.stream().mapToDouble(r -> r.cost().floorSeconds(p)).sum();
        throughput.add(new ThroughputResult(backend.name(), backend.description(), backend.precision(), batch,
                options.size(), Samples.of(seconds), clock.kind(), flopsPerImage, floor, load));
        layers.addAll(rows); // counted always, timed with perLayer
    }

    private List<LayerResult> timeLayers(ForwardSession session, Tensor input, DeviceClock clock, Peaks p, List<LayerResult> rows,
                                         int batch, Progress progress) {
        double[][] seconds = new double[rows.size()][options.iterations()];
        for (int it = 0; it < options.iterations(); it++) {
            int iteration = it;
            session.upload(input);
            session.enqueueForward(batch, (index, node, launch) -> seconds[index][iteration] = clock.seconds(launch));
            progress.advance(1, "per layer " + (it + 1) + "/" + options.iterations());
        }
        List<LayerResult> timed = new ArrayList<>(rows.size());
        for (LayerResult r : rows) timed.add(r.timed(Samples.of(seconds[r.index()]), p, clock.kind()));
        return timed;
    }

    private Tensor randomInput(ForwardSession session, int batch) {
        Tensor t = Tensor.zeros(session.inputShape(batch));
        Random rnd = new Random(options.seed() + batch);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) d[i] = rnd.nextFloat() * 2 - 1; // preprocessed pixels are in [-1, 1]
        return t;
    }

    /**
     * The peers at one batch size: PyTorch (each model) on the CPU beside every CPU backend measured
     * at it, fp32; on the GPU beside CUDA in the precisions CUDA ran, and in fp32 beside OpenCL on a
     * GPU (the card must be the one torch sees: rows are matched by the card's name). Beside CUDA also
     * cuBLAS on the pointwise GEMMs, and beside either the per-layer cuDNN peer. A peer found
     * unavailable once is not tried again.
     */
    private List<PeerResult> runPeers(XceptionGraph graph, int batch) {
        if (!options.peers().enabled()) return List.of();
        List<PeerResult> out = new ArrayList<>();
        Set<String> gpuPrecisions = new LinkedHashSet<>(), cudaPrecisions = new LinkedHashSet<>();
        boolean cpu = false;
        for (ThroughputResult t : throughput) {
            if (t.batch() != batch) continue;
            if (t.backend().startsWith("cuda")) {
                cudaPrecisions.add(label(t.precision()));
                gpuPrecisions.add(label(t.precision()));
            } else if (CardPeaks.isGpu(t.device())) gpuPrecisions.add(label(t.precision()));
            else cpu = true;
        }
        for (String model : options.peers().models()) {
            if (cpu) out.addAll(peer("cpu", model, List.of("fp32"), batch, graph));
            if (!gpuPrecisions.isEmpty()) out.addAll(peer("cuda", model, new ArrayList<>(gpuPrecisions), batch, graph));
        }
        if (!cudaPrecisions.isEmpty()) gemmPeers(graph, batch, cudaPrecisions);
        if (!gpuPrecisions.isEmpty()) layerPeers(graph, batch, gpuPrecisions);
        return out;
    }

    private List<PeerResult> peer(String device, String model, List<String> precisions, int batch, XceptionGraph graph) {
        String key = device + " " + model;
        if (unavailablePeers.contains(key)) return List.of();
        String what = PeerRunner.describe(device, model, "eager");
        long units = (long) batch * (Math.max(1, options.warmup()) + options.iterations()) * precisions.size();
        progress.addTotal(units);
        progress.advance(0, "peer: " + what + " batch " + batch);
        PeerRunner.Outcome o = PeerRunner.run(options.peers(), device, model, "eager", precisions, List.of(batch), options.size(),
                Math.max(1, options.warmup()), options.iterations(), 0, graph.parameterCount());
        o.notes().forEach(this::note);
        if (o.unavailable()) unavailablePeers.add(key);
        progress.advance(units, "peer: " + what + " batch " + batch + " done");
        double load = Machine.loadAverage();
        return o.results().stream().map(r -> r.withLoadAverage(load)).toList();
    }

    /**
     * Each fused launch's work alone, at this batch, in the precisions the GPU backends ran: PyTorch
     * eager (cuDNN convolutions, benchmarks/peers/cudnn_layers.py), then cuDNN 9 from this JVM through
     * the JavaCPP preset ({@link CudnnPeer}). Each found unavailable once is not tried again.
     */
    private void layerPeers(XceptionGraph graph, int batch, Set<String> precisions) {
        if (options.peers().layerScript() != null && !unavailablePeers.contains("cudnn-layers")) {
            progress.advance(0, "peer: cuDNN per layer (torch eager), batch " + batch);
            LayerPeerRunner.Outcome o = LayerPeerRunner.run(options.peers(), "cuda", graph, batch, new ArrayList<>(precisions),
                    Math.max(1, options.warmup()), options.iterations(), LayerPeerRunner.BUDGET_SECONDS);
            o.notes().forEach(this::note);
            if (o.unavailable()) unavailablePeers.add("cudnn-layers");
            layerPeers.addAll(o.results());
        }
        if (!unavailablePeers.contains("cudnn-jvm")) {
            progress.advance(0, "peer: cuDNN per layer (JVM, JavaCPP), batch " + batch);
            LayerPeerRunner.Outcome o = CudnnPeer.run(cudaDeviceIndex(), graph, batch, new ArrayList<>(precisions), Math.max(1, options.warmup()),
                    options.iterations(), CudnnPeer.BUDGET_SECONDS);
            o.notes().forEach(this::note);
            if (o.unavailable()) unavailablePeers.add("cudnn-jvm");
            layerPeers.addAll(o.results());
        }
    }

    /**
     * Seconds the cuBLAS script may take for one batch size before it is killed: importing torch and
     * starting CUDA take ~5 s, the GEMMs of batch 256 in three precisions well under a second.
     */
    static final long GEMM_PEER_BUDGET_SECONDS = 60;

    /**
     * cuBLAS on the pointwise GEMMs of this batch, in the precisions CUDA ran that cuBLAS has a GEMM
     * for (fp32, tf32, bf16): through torch.mm (benchmarks/peers/cublas_gemms.py) and in-process through
     * JCublas, or the JavaCPP CUDA 13 preset where JCublas does not load ({@link CublasSources}). Each
     * source found unavailable once is not tried again.
     */
    private void gemmPeers(XceptionGraph graph, int batch, Set<String> cudaPrecisions) {
        List<String> precisions = cudaPrecisions.stream().filter(p -> List.of("fp32", "tf32", "bf16").contains(p)).toList();
        if (precisions.isEmpty()) return;
        List<PointwiseGemm> gemms = PointwiseGemm.of(graph, batch);
        GemmPeerRunner.Outcome o = cublasSources.run(cudaDeviceIndex(), gemms, precisions, batch, Math.max(1, options.warmup()),
                options.iterations(), source -> progress.advance(0, "peer: cuBLAS (" + source + ") on " + gemms.size() + " GEMMs, batch " + batch));
        o.notes().forEach(this::note);
        gemmPeers.addAll(o.results());
    }

    /** The device of the first CUDA backend measured: "cuda" is device 0, "cuda:i" device i. */
    private int cudaDeviceIndex() {
        return throughput.stream().map(ThroughputResult::backend).filter(b -> b.startsWith("cuda")).findFirst()
                .filter(b -> b.matches("cuda:\\d+")).map(b -> Integer.parseInt(b.substring(5))).orElse(0);
    }

    /**
     * torch.compile on the GPU, after every eager row is measured, in the time the options leave it
     * ({@link CompilePlan}): one child process per model × compile mode × precision, each over every
     * CUDA batch size (largest first) and killed at its share of the phase, keeping the rows it
     * finished. A model found unavailable (timm not installed) is not tried again.
     */
    private List<PeerResult> runCompilePeers(XceptionGraph graph) {
        if (!options.peers().enabled() || options.peers().compileSeconds() <= 0) return List.of();
        List<String> precisions = new ArrayList<>();
        Set<Integer> batches = new LinkedHashSet<>();
        for (ThroughputResult t : throughput) {
            if (!t.backend().startsWith("cuda")) continue;
            String p = label(t.precision());
            if (!precisions.contains(p) && (options.peers().compilePrecisions().isEmpty() || options.peers().compilePrecisions().contains(p))) {
                precisions.add(p);
            }
            batches.add(t.batch());
        }
        if (batches.isEmpty()) {
            note("peer pytorch compile: not run (it runs beside CUDA, and no CUDA configuration was measured)");
            return List.of();
        }
        if (precisions.isEmpty()) {
            note("peer pytorch compile: not run: none of --compile-precision " + String.join(",", options.peers().compilePrecisions())
                    + " was measured on CUDA");
            return List.of();
        }
        Instant deadline = Instant.now().plusSeconds(options.peers().compileBudgetSeconds(Instant.now()));
        // the largest batch first: where the compiled graph's fusion matters most, and what a short budget should reach
        List<Integer> largestFirst = batches.stream().sorted(java.util.Comparator.reverseOrder()).toList();
        List<CompilePlan.Job> jobs = CompilePlan.jobs(precisions, options.peers().compileModes(), options.peers().models());
        Set<String> unavailableModels = new LinkedHashSet<>();
        for (String m : options.peers().models()) if (unavailablePeers.contains("cuda " + m)) unavailableModels.add(m);
        CompilePlan.Outcome o = CompilePlan.run(options.peers(), jobs, largestFirst, options.size(), Math.max(1, options.warmup()),
                options.iterations(), graph.parameterCount(), deadline, CompilePlan.MIN_SECONDS, unavailableModels,
                doing -> progress.advance(0, "peer: " + doing));
        o.notes().forEach(this::note);
        double load = Machine.loadAverage();
        return o.results().stream().map(r -> r.withLoadAverage(load)).toList();
    }

    private static String firstLine(RuntimeException e) {
        String m = String.valueOf(e.getMessage()).strip();
        return e.getClass().getSimpleName() + ": " + (m.contains("\n") ? m.substring(0, m.indexOf('\n')) : m);
    }

    static String label(Precision p) { return p.name().toLowerCase(Locale.ROOT); }
}
