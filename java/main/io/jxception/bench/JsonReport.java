package io.jxception.bench;

import io.jxception.tensor.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The whole report as one JSON document (times in ms, rates in GFLOP/s and GB/s, counts exact). */
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
            tp.add(m);
        }
        root.put("throughput", tp);
        List<Object> peers = new ArrayList<>();
        for (PeerResult p : r.peers()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("peer", p.peer());
            m.put("device", p.device());
            m.put("precision", p.precision());
            m.put("batch", p.batch());
            m.put("size", p.size());
            m.put("images_per_second", p.imagesPerSecond());
            m.put("best_images_per_second", p.bestImagesPerSecond());
            m.put("forward_ms", p.forward().median() * 1e3);
            m.put("forward_min_ms", p.forward().min() * 1e3);
            m.put("samples", p.forward().count());
            peers.add(m);
        }
        root.put("peers", peers);
        List<Object> layers = new ArrayList<>();
        for (LayerResult l : r.layers()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("backend", l.backend());
            m.put("precision", BenchSuite.label(l.precision()));
            m.put("batch", l.batch());
            m.put("index", l.index());
            m.put("node", l.node());
            m.put("kernel", l.kernel().kernelName());
            m.put("stage", l.stage().label());
            m.put("flops", l.cost().flops());
            m.put("bytes", l.cost().bytes());
            m.put("time_ms", l.isTimed() ? l.time().median() * 1e3 : null);
            m.put("gflops", l.gflops());
            m.put("gbps", l.gbps());
            m.put("floor_ms", l.floorSeconds() * 1e3);
            m.put("floor_fraction", l.floorFraction());
            layers.add(m);
        }
        root.put("layers", layers);
        root.put("notes", r.notes());
        return root;
    }
}
