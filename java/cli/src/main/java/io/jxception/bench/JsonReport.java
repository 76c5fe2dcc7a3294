package io.jxception.bench;

import io.jxception.internal.json.Json;
import io.jxception.backend.Precision;
import io.jxception.internal.tensor.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The whole report as one JSON document (times in ms, rates in GFLOP/s and GB/s, counts exact), and
 * back: {@link #read} turns a file {@link #write} wrote into the report again, so that CSVs, plots
 * and summary can be rendered later, measuring nothing ({@code jxception bench --from-json}).
 * Reports written before the layer rows carried device, size, min time, samples and clock get them
 * from their throughput row (same backend, precision and batch: the suite times both with one
 * clock); their layer minimum times stay unknown (empty CSV cells).
 */
public final class JsonReport {
    private JsonReport() {}

    public static void write(Path file, BenchReport r) throws IOException {
        AtomicFiles.write(file, Json.write(toJson(r)).getBytes(StandardCharsets.UTF_8));
    }

    static Map<String, Object> toJson(BenchReport r) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("command", r.command());
        root.put("machine", r.machine().toString());
        root.put("started", r.started().toString());
        root.put("finished", r.finished().toString());
        root.put("load_average_before", r.loadBefore());
        root.put("load_average_after", r.loadAfter());
        BenchOptions o = r.options();
        Map<String, Object> opts = new LinkedHashMap<>();
        opts.put("backends", o.backends());
        opts.put("precisions", o.precisions().stream().map(BenchSuite::label).toList());
        opts.put("batches", o.batches());
        opts.put("size", o.size());
        opts.put("iterations", o.iterations());
        opts.put("warmup", o.warmup());
        opts.put("per_layer", o.perLayer());
        root.put("options", opts);
        List<Object> peaks = new ArrayList<>();
        for (Peaks p : r.peaks()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("device", p.device());
            m.putAll(p.toJson());
            peaks.add(m);
        }
        root.put("peaks", peaks);
        List<Object> tp = new ArrayList<>();
        for (ThroughputResult t : r.throughput()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("backend", t.backend());
            m.put("device", t.device());
            m.put("precision", BenchSuite.label(t.precision()));
            m.put("batch", t.batch());
            m.put("size", t.size());
            m.put("images_per_second", t.imagesPerSecond());
            m.put("best_images_per_second", t.bestImagesPerSecond());
            m.put("forward_ms", t.forward().median() * 1e3);
            m.put("forward_min_ms", t.forward().min() * 1e3);
            m.put("samples", t.forward().count());
            m.put("gflops", t.gflops());
            m.put("flops_per_image", t.flopsPerImage());
            m.put("floor_images_per_second", t.floorImagesPerSecond());
            m.put("clock", t.clock());
            m.put("load_average", t.loadAverage());
            tp.add(m);
        }
        root.put("throughput", tp);
        List<Object> peers = new ArrayList<>();
        for (PeerResult p : r.peers()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("peer", p.peer());
            m.put("model", p.model());
            m.put("mode", p.mode());
            m.put("device", p.device());
            m.put("precision", p.precision());
            m.put("batch", p.batch());
            m.put("size", p.size());
            m.put("images_per_second", p.imagesPerSecond());
            m.put("best_images_per_second", p.bestImagesPerSecond());
            m.put("forward_ms", p.forward().median() * 1e3);
            m.put("forward_min_ms", p.forward().min() * 1e3);
            m.put("samples", p.forward().count());
            m.put("first_call_s", p.firstCallSeconds());
            m.put("load_average", p.loadAverage());
            peers.add(m);
        }
        root.put("peers", peers);
        List<Object> sources = new ArrayList<>();
        for (CardPeaks.Source p : r.peakSources()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("card", p.card());
            m.put("precision", p.precision());
            m.put("source", p.source());
            m.put("gflops", p.flopsPerSecond() / 1e9);
            m.put("compute_probe", p.computeProbe());
            m.put("gbps", p.bytesPerSecond() / 1e9);
            m.put("bandwidth_probe", p.bandwidthProbe());
            m.put("measured_at", p.measuredAt());
            sources.add(m);
        }
        root.put("peak_sources", sources);
        List<Object> layers = new ArrayList<>();
        for (LayerResult l : r.layers()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("backend", l.backend());
            m.put("device", l.device());
            m.put("precision", BenchSuite.label(l.precision()));
            m.put("batch", l.batch());
            m.put("size", l.size());
            m.put("index", l.index());
            m.put("node", l.node());
            m.put("kernel", l.kernel().kernelName());
            m.put("stage", l.stage().label());
            m.put("flops", l.cost().flops());
            m.put("bytes", l.cost().bytes());
            m.put("time_ms", l.isTimed() ? l.time().median() * 1e3 : null);
            m.put("time_min_ms", l.isTimed() ? l.time().min() * 1e3 : null);
            m.put("samples", l.isTimed() ? l.time().count() : null);
            m.put("gflops", l.gflops());
            m.put("gbps", l.gbps());
            m.put("floor_ms", l.floorSeconds() * 1e3);
            m.put("floor_fraction", l.floorFraction());
            m.put("clock", l.clock());
            Optional<GemmPeerResult> g = GemmPeerResult.of(r.gemmPeers(), l);
            if (g.isPresent()) { // derived from gemm_peers, for readers of the layer rows alone; not read back
                m.put("gemm_peer_ms", g.get().time().median() * 1e3);
                m.put("gemm_peer_speedup", GemmPeerResult.ratio(l, g.get()));
            }
            layers.add(m);
        }
        root.put("layers", layers);
        List<Object> gemms = new ArrayList<>();
        for (GemmPeerResult g : r.gemmPeers()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("peer", g.peer());
            m.put("device", g.device());
            m.put("precision", g.precision());
            m.put("batch", g.batch());
            m.put("index", g.index());
            m.put("node", g.node());
            m.put("m", g.m());
            m.put("n", g.n());
            m.put("k", g.k());
            m.put("time_ms", g.time().median() * 1e3);
            m.put("time_min_ms", g.time().min() * 1e3);
            m.put("samples", g.time().count());
            m.put("gflops", g.gflops());
            gemms.add(m);
        }
        root.put("gemm_peers", gemms);
        List<Object> layerPeers = new ArrayList<>();
        for (LayerPeerResult g : r.layerPeers()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("peer", g.peer());
            m.put("device", g.device());
            m.put("precision", g.precision());
            m.put("batch", g.batch());
            m.put("index", g.index());
            m.put("node", g.node());
            m.put("ops", g.ops());
            m.put("time_ms", g.time().median() * 1e3);
            m.put("time_min_ms", g.time().min() * 1e3);
            m.put("samples", g.time().count());
            layerPeers.add(m);
        }
        root.put("layer_peers", layerPeers);
        root.put("notes", r.notes());
        return root;
    }

    /**
     * The report a {@link #write} wrote. Options the JSON does not keep (peaks file, peer settings,
     * seed) are left at neutral values: no writer reads them.
     *
     * @throws IllegalArgumentException naming the file, when it is not JSON or not such a report
     */
    public static BenchReport read(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        try {
            return fromJson(Json.parseObject(text));
        } catch (IllegalArgumentException | ClassCastException | DateTimeParseException e) {
            throw new IllegalArgumentException(file + " is not a report written by 'jxception bench --json': " + e.getMessage(), e);
        }
    }

    private static final Pattern MACHINE = Pattern.compile("(.*), (\\d+) cores, (.*?), (.*)", Pattern.DOTALL);

    static BenchReport fromJson(Map<String, Object> root) {
        for (String key : List.of("command", "machine", "started", "options", "peaks", "throughput", "layers")) {
            if (!root.containsKey(key)) throw new IllegalArgumentException("no '" + key + "' field");
        }
        Matcher mm = MACHINE.matcher(string(root, "machine"));
        if (!mm.matches()) throw new IllegalArgumentException("'machine' is not \"<cpu>, <n> cores, <os>, <jvm>\": " + root.get("machine"));
        Machine machine = new Machine(mm.group(1), Integer.parseInt(mm.group(2)), mm.group(3), mm.group(4));
        Map<?, ?> o = object(root.get("options"), "options");
        List<Object> peerRows = root.containsKey("peers") ? list(root.get("peers"), "peers") : List.of();
        BenchOptions options = new BenchOptions(strings(o.get("backends"), "options.backends"),
                strings(o.get("precisions"), "options.precisions").stream().map(JsonReport::precision).toList(),
                list(o.get("batches"), "options.batches").stream().map(b -> (int) number(b, "options.batches")).toList(),
                integer(o, "size"), integer(o, "iterations"), integer(o, "warmup"), Boolean.TRUE.equals(o.get("per_layer")), false, null,
                new BenchOptions.PeerOptions(!peerRows.isEmpty(), null, null, 0, 0, null), 0);

        List<Peaks> peaks = new ArrayList<>();
        for (Object x : list(root.get("peaks"), "peaks")) {
            Map<?, ?> m = object(x, "peaks entry");
            peaks.add(Peaks.fromJson(string(m, "device"), m));
        }
        List<ThroughputResult> throughput = new ArrayList<>();
        for (Object x : list(root.get("throughput"), "throughput")) {
            Map<?, ?> m = object(x, "throughput row");
            int batch = integer(m, "batch");
            double floorIps = optional(m, "floor_images_per_second");
            throughput.add(new ThroughputResult(string(m, "backend"), string(m, "device"), precision(string(m, "precision")), batch,
                    integer(m, "size"), samples(m, "forward_ms", "forward_min_ms", integer(m, "samples")), string(m, "clock"),
                    (long) number(m.get("flops_per_image"), "flops_per_image"), batch / floorIps, optional(m, "load_average")));
        }
        List<PeerResult> peers = new ArrayList<>();
        for (Object x : peerRows) {
            Map<?, ?> m = object(x, "peer row");
            PeerResult legacy = new PeerResult(string(m, "peer"), string(m, "device"), string(m, "precision"), integer(m, "batch"),
                    integer(m, "size"), samples(m, "forward_ms", "forward_min_ms", integer(m, "samples")), optional(m, "load_average"));
            // reports before 2026-12 have no model, mode or first call: the Keras port, its mode in the label
            peers.add(new PeerResult(legacy.peer(), m.get("model") instanceof String s ? s : legacy.model(),
                    m.get("mode") instanceof String s ? s : legacy.mode(), legacy.device(), legacy.precision(), legacy.batch(), legacy.size(),
                    legacy.forward(), optional(m, "first_call_s"), legacy.loadAverage()));
        }
        List<LayerResult> layers = new ArrayList<>();
        for (Object x : list(root.get("layers"), "layers")) {
            Map<?, ?> m = object(x, "layer row");
            String backend = string(m, "backend");
            Precision precision = precision(string(m, "precision"));
            int batch = integer(m, "batch");
            // older reports: device, size and clock from the throughput row the same measurement wrote
            Optional<ThroughputResult> config = throughput.stream()
                    .filter(t -> t.backend().equals(backend) && t.precision() == precision && t.batch() == batch).findFirst();
            String device = m.get("device") instanceof String d ? d : config.map(ThroughputResult::device).orElse("not run");
            int size = m.get("size") != null ? integer(m, "size") : options.size();
            LaunchCost cost = new LaunchCost((long) number(m.get("flops"), "flops"), (long) number(m.get("bytes"), "bytes"));
            Samples time = m.get("time_ms") == null ? null : samples(m, "time_ms", "time_min_ms",
                    m.get("samples") != null ? integer(m, "samples") : options.iterations());
            String clock = time == null ? null : m.get("clock") instanceof String c ? c : config.map(ThroughputResult::clock).orElse(null);
            layers.add(new LayerResult(backend, device, precision, batch, size, integer(m, "index"), string(m, "node"),
                    kernel(string(m, "kernel")), stage(string(m, "stage")), cost, time,
                    time == null ? null : peaksOf(peaks, device, cost, optional(m, "floor_ms") / 1e3), clock));
        }
        List<GemmPeerResult> gemmPeers = new ArrayList<>();
        for (Object x : root.containsKey("gemm_peers") ? list(root.get("gemm_peers"), "gemm_peers") : List.of()) {
            Map<?, ?> m = object(x, "gemm peer row");
            gemmPeers.add(new GemmPeerResult(string(m, "peer"), string(m, "device"), string(m, "precision"), integer(m, "batch"),
                    integer(m, "index"), string(m, "node"), (long) number(m.get("m"), "m"), integer(m, "n"), integer(m, "k"),
                    samples(m, "time_ms", "time_min_ms", integer(m, "samples"))));
        }
        List<CardPeaks.Source> peakSources = new ArrayList<>();
        for (Object x : root.containsKey("peak_sources") ? list(root.get("peak_sources"), "peak_sources") : List.of()) {
            Map<?, ?> m = object(x, "peak source");
            peakSources.add(new CardPeaks.Source(string(m, "card"), string(m, "precision"), string(m, "source"), optional(m, "gflops") * 1e9,
                    m.get("compute_probe") instanceof String c ? c : null, optional(m, "gbps") * 1e9,
                    m.get("bandwidth_probe") instanceof String b ? b : null, string(m, "measured_at")));
        }
        List<LayerPeerResult> layerPeers = new ArrayList<>();
        for (Object x : root.containsKey("layer_peers") ? list(root.get("layer_peers"), "layer_peers") : List.of()) {
            Map<?, ?> m = object(x, "layer peer row");
            layerPeers.add(new LayerPeerResult(string(m, "peer"), string(m, "device"), string(m, "precision"), integer(m, "batch"),
                    integer(m, "index"), string(m, "node"), string(m, "ops"), samples(m, "time_ms", "time_min_ms", integer(m, "samples"))));
        }
        List<String> notes = root.containsKey("notes") ? strings(root.get("notes"), "notes") : List.of();
        return new BenchReport(options, string(root, "command"), machine, Instant.parse(string(root, "started")),
                Instant.parse(root.get("finished") instanceof String f ? f : string(root, "started")),
                optional(root, "load_average_before"), optional(root, "load_average_after"), peaks, throughput, layers, peers, gemmPeers, notes,
                peakSources, layerPeers);
    }

    /**
     * The peaks a layer row was measured against: those of its device, else (cached peaks keep the
     * description they were measured under) the ones that give its recorded floor.
     */
    private static Peaks peaksOf(List<Peaks> peaks, String device, LaunchCost cost, double floorSeconds) {
        if (Double.isNaN(floorSeconds)) return null;
        for (Peaks p : peaks) if (p.device().equals(device)) return p;
        for (Peaks p : peaks) if (Math.abs(cost.floorSeconds(p) - floorSeconds) <= 1e-9 * floorSeconds) return p;
        throw new IllegalArgumentException("no peaks entry gives the floor of a layer row of " + device);
    }

    private static Samples samples(Map<?, ?> m, String medianKey, String minKey, int count) {
        double median = number(m.get(medianKey), medianKey) / 1e3;
        double min = m.get(minKey) == null ? Double.NaN : number(m.get(minKey), minKey) / 1e3;
        return new Samples(median, min, Double.NaN, count);
    }

    private static Precision precision(String label) {
        try {
            return Precision.valueOf(label.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown precision '" + label + "'");
        }
    }

    private static Kernel kernel(String name) {
        for (Kernel k : Kernel.values()) if (k.kernelName().equals(name)) return k;
        throw new IllegalArgumentException("unknown kernel '" + name + "'");
    }

    private static Stage stage(String label) {
        for (Stage s : Stage.values()) if (s.label().equals(label)) return s;
        throw new IllegalArgumentException("unknown stage '" + label + "'");
    }

    private static Map<?, ?> object(Object v, String what) {
        if (v instanceof Map<?, ?> m) return m;
        throw new IllegalArgumentException("'" + what + "' is not a JSON object");
    }

    private static List<Object> list(Object v, String what) {
        if (v instanceof List<?> l) return new ArrayList<>(l);
        throw new IllegalArgumentException("'" + what + "' is not a JSON array");
    }

    private static List<String> strings(Object v, String what) {
        List<String> out = new ArrayList<>();
        for (Object x : list(v, what)) {
            if (!(x instanceof String s)) throw new IllegalArgumentException("'" + what + "' holds a non-string: " + x);
            out.add(s);
        }
        return out;
    }

    private static String string(Map<?, ?> m, String key) {
        if (m.get(key) instanceof String s) return s;
        throw new IllegalArgumentException("'" + key + "' is missing or not a string");
    }

    private static double number(Object v, String what) {
        if (v instanceof Number d) return d.doubleValue();
        throw new IllegalArgumentException("'" + what + "' is missing or not a number");
    }

    private static int integer(Map<?, ?> m, String key) {
        double d = number(m.get(key), key);
        if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) throw new IllegalArgumentException("'" + key + "' is not an integer: " + d);
        return (int) d;
    }

    /** A number written as null where it was NaN (not measured). */
    private static double optional(Map<?, ?> m, String key) {
        return m.get(key) == null ? Double.NaN : number(m.get(key), key);
    }
}
