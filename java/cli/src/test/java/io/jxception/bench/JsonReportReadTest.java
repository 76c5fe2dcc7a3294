package io.jxception.bench;

import io.jxception.internal.json.Json;
import io.jxception.backend.Precision;
import io.jxception.model.XceptionGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** A report written with --json and read back renders the same CSVs, summary and JSON as the original. */
public class JsonReportReadTest {
    private static final String GPU = "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs), bf16, kernels: sm_90 cubin";

    /** Two timed configurations (one with peaks, one without), one counted only, peers and notes. */
    public static BenchReport report() {
        XceptionGraph graph = BenchSuite.graph(71);
        Peaks peaks = new Peaks(GPU, 5.1961e13, 1.3329e12, "separable conv 3x3, \"best\"", "addInPlace", "2026-11-26T16:07:29Z");
        List<LayerResult> layers = new ArrayList<>();
        List<ThroughputResult> throughput = new ArrayList<>();
        int[] batches = {1, 32};
        for (int k = 0; k < batches.length; k++) {
            int batch = batches[k];
            Peaks p = k == 0 ? peaks : null; // the second configuration measured no peaks
            List<LayerResult> rows = LayerResult.count(graph, batch, Precision.BF16, "cuda:0", GPU);
            double floor = 0;
            for (LayerResult r : rows) {
                double median = 1.0e-5 * (r.index() + 1) * batch / 3.0;
                layers.add(r.timed(new Samples(median, median * 0.97, median * 1.2, 20), p, "CUDA events"));
                if (p != null) floor += r.cost().floorSeconds(p);
            }
            long flopsPerImage = rows.stream().mapToLong(r -> r.cost().flops()).sum() / batch;
            throughput.add(new ThroughputResult("cuda:0", GPU, Precision.BF16, batch, 71, new Samples(7.123456e-4 * batch, 6.9e-4 * batch, 8e-4 * batch, 20),
                    "CUDA events", flopsPerImage, p == null ? Double.NaN : floor, 0.5 + k));
        }
        layers.addAll(LayerResult.count(graph, 2, Precision.FP32, "opencl", "not run"));
        List<GemmPeerResult> gemms = new ArrayList<>();
        for (int batch : batches) {
            for (PointwiseGemm g : PointwiseGemm.of(graph, batch)) {
                double median = (g.index() + 1) * batch / 1048576.0; // binary fractions: ms -> s -> ms is exact, so the JSON is too
                gemms.add(new GemmPeerResult("cublas: torch 2.11.0+cu130 torch.mm (cuBLAS, CUDA 13.0)", "cuda (NVIDIA H100 80GB HBM3)", "bf16",
                        batch, g.index(), g.node(), g.m(), g.n(), g.k(), new Samples(median, median / 2, Double.NaN, 20)));
            }
        }
        List<PeerResult> peers = List.of(
                new PeerResult("pytorch 2.11.0+cu130 eager channels_last", "cuda (NVIDIA H100 80GB HBM3)", "bf16", 1, 71, new Samples(3.1e-3, 2.9e-3, 3.3e-3, 20), 0.9),
                new PeerResult("pytorch 2.11.0+cu130 compile channels_last", "cuda (NVIDIA H100 80GB HBM3)", "bf16", 32, 71, new Samples(1.7e-2, 1.6e-2, 1.8e-2, 20), Double.NaN),
                new PeerResult("pytorch 2.11.0+cu130 timm 1.0.20 legacy_xception compile max-autotune-no-cudagraphs channels_last", PeerResult.TIMM,
                        "compile max-autotune-no-cudagraphs", "cuda (NVIDIA H100 80GB HBM3)", "bf16", 1, 71, new Samples(2.5e-3, 2.4e-3, 2.6e-3, 20), 97.5, 1.1));
        List<CardPeaks.Source> sources = List.of(CardPeaks.Source.ours("cuda:0", "bf16", peaks),
                new CardPeaks.Source("NVIDIA H100 80GB HBM3", "bf16", "cuBLAS via torch.matmul", 7.5e14, "torch.matmul 8192x8192x8192 bf16", Double.NaN, null, "2026-11-26T16:07:30Z"),
                new CardPeaks.Source("NVIDIA H100 80GB HBM3", "any", "torch copy_", Double.NaN, null, 3.0e12, "dst.copy_(src)", "2026-11-26T16:07:31Z"));
        List<LayerPeerResult> layerPeers = new ArrayList<>();
        for (int index : new int[]{0, 3, 9}) {
            LayerResult l = layers.get(index);
            layerPeers.add(new LayerPeerResult("cudnn: torch 2.11.0+cu130 eager (cuDNN 91500, CUDA 13.0)", "cuda (NVIDIA H100 80GB HBM3)", "bf16", 1,
                    index, l.node(), "conv2d, batch_norm", new Samples(index / 1048576.0 + 1 / 1024.0, 1 / 2048.0, Double.NaN, 20)));
        }
        BenchOptions options = new BenchOptions(List.of("cuda", "opencl"), List.of(Precision.BF16, Precision.FP32), List.of(1, 32), 71, 20, 3,
                true, false, Path.of("peaks.json"), new BenchOptions.PeerOptions(true, "python3", Path.of("x.py"), 16, 120, Path.of("g.py")), 1);
        return new BenchReport(options, "jxception bench --backend cuda --precision bf16 --batch 1,32 --json \"a b.json\"",
                new Machine("Intel(R) Xeon(R) Processor", 16, "Linux 6.18.44", "OpenJDK 64-Bit Server VM 25.0.3"),
                Instant.parse("2026-11-26T16:07:23.702307226Z"), Instant.parse("2026-11-26T16:09:34.530250736Z"), 0.76, Double.NaN,
                List.of(peaks), throughput, layers, peers, gemms, List.of("opencl fp32 unavailable: no platform", "a note, with \"quotes\""),
                sources, layerPeers);
    }

    @Test
    void readBackRendersTheSameSummaryCsvsAndJson(@TempDir Path dir) throws Exception {
        BenchReport original = report();
        Path json = dir.resolve("suite.json");
        JsonReport.write(json, original);
        BenchReport read = JsonReport.read(json);

        assertEquals(original.deviceSlug(), read.deviceSlug());
        assertEquals(original.date(), read.date());
        assertEquals(original.machine(), read.machine());
        assertEquals(original.layers().size(), read.layers().size());
        List<Path> plots = List.of(dir.resolve("plots/roofline-cuda-0-bf16.png"));
        assertEquals(SummaryReport.render(original, dir, plots), SummaryReport.render(read, dir, plots));

        assertEquals(original.gemmPeers().size(), read.gemmPeers().size());
        for (int i = 0; i < read.gemmPeers().size(); i++) {
            GemmPeerResult a = original.gemmPeers().get(i), b = read.gemmPeers().get(i);
            assertEquals(a.time().median(), b.time().median(), 1e-12 * a.time().median()); // ms in the file, s here
            assertEquals(a, new GemmPeerResult(b.peer(), b.device(), b.precision(), b.batch(), b.index(), b.node(), b.m(), b.n(), b.k(), a.time()));
        }
        Csv.writeLayers(dir.resolve("a-layers.csv"), original.layers(), original.gemmPeers());
        Csv.writeLayers(dir.resolve("b-layers.csv"), read.layers(), read.gemmPeers());
        assertEquals(Files.readString(dir.resolve("a-layers.csv")), Files.readString(dir.resolve("b-layers.csv")));
        assertTrue(SummaryReport.render(read, dir, plots).contains("## Pointwise GEMMs against cuBLAS\n\nEach separable conv"));
        Csv.writeThroughput(dir.resolve("a-tp.csv"), original.throughput(), original.peers());
        Csv.writeThroughput(dir.resolve("b-tp.csv"), read.throughput(), read.peers());
        assertEquals(Files.readString(dir.resolve("a-tp.csv")), Files.readString(dir.resolve("b-tp.csv")));
        Path again = dir.resolve("again.json");
        JsonReport.write(again, read);
        assertEquals(Files.readString(json), Files.readString(again), "JSON -> report -> JSON is the identity");

        // the whole --report set renders from the read report, names and all
        List<Path> files = ReportFiles.write(read, dir.resolve("results"));
        String base = "nvidia-h100-80gb-hbm3-2026-11-26";
        assertEquals(original.deviceSlug() + "-2026-11-26", base);
        assertTrue(files.contains(dir.resolve("results/SUMMARY-" + base + ".md")), files.toString());
        assertTrue(files.contains(dir.resolve("results/plots-" + base + "/roofline-cuda-0-bf16.png")), files.toString());
        assertTrue(files.contains(dir.resolve("results/plots-" + base + "/layers-cuda-0-bf16-b32.png")), files.toString());
        assertTrue(files.contains(dir.resolve("results/throughput-" + base + ".csv")), files.toString());
        assertTrue(files.contains(dir.resolve("results/plots-" + base + "/gemms-cuda-0-bf16-b32.png")), files.toString());
    }

    @Test
    void olderReportsWithoutLayerDeviceClockAndMinTimesStillRender(@TempDir Path dir) throws Exception {
        BenchReport original = report();
        Map<String, Object> root = JsonReport.toJson(original);
        for (Object row : (List<?>) root.get("layers")) {
            @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) row;
            for (String k : List.of("device", "size", "time_min_ms", "samples", "clock")) m.remove(k);
        }
        Path json = dir.resolve("old.json");
        Files.writeString(json, Json.write(root));
        BenchReport read = JsonReport.read(json);
        assertEquals(SummaryReport.render(original, dir, List.of()), SummaryReport.render(read, dir, List.of()));
        for (int i = 0; i < original.layers().size(); i++) {
            LayerResult a = original.layers().get(i), b = read.layers().get(i);
            String timedDevice = a.isTimed() ? a.device() : "not run";
            assertEquals(timedDevice, b.device());
            assertEquals(a.clock(), b.clock());
            assertEquals(a.peaks(), b.peaks());
            if (a.isTimed()) {
                assertEquals(a.time().median(), b.time().median(), 1e-15);
                assertTrue(Double.isNaN(b.time().min()), "unknown, so empty in the CSV");
                assertEquals(20, b.time().count(), "the iterations of the run");
            }
        }
    }

    @Test
    void newFieldsComeBackAndTheCommittedReportsStillRender(@TempDir Path dir) throws Exception {
        BenchReport original = report();
        Path json = dir.resolve("suite.json");
        JsonReport.write(json, original);
        BenchReport read = JsonReport.read(json);
        assertEquals(original.peers().get(2).model(), read.peers().get(2).model());
        assertEquals("compile max-autotune-no-cudagraphs", read.peers().get(2).mode());
        assertEquals(97.5, read.peers().get(2).firstCallSeconds(), 1e-12);
        assertEquals(original.peakSources(), read.peakSources());
        assertEquals(original.layerPeers().size(), read.layerPeers().size());
        String md = SummaryReport.render(read, dir, List.of());
        assertTrue(md.contains("## Card peaks (the roofline's ceilings)"), md);
        assertTrue(md.contains("| NVIDIA H100 80GB HBM3 | bf16 | cuBLAS via torch.matmul | 750,000.0 | – |"), md);
        assertTrue(md.contains("## Per launch on the GPU: cuda:0 and cuDNN"), md);

        // reports written before model labels, card peaks and per-layer peers: every one in benchmarks/results
        List<Path> committed;
        try (var files = Files.list(Path.of("benchmarks/results"))) {
            committed = files.filter(f -> f.getFileName().toString().matches("report-.*\\.json")).sorted().toList();
        }
        assertFalse(committed.isEmpty());
        for (Path f : committed) {
            BenchReport old = JsonReport.read(f);
            String summary = SummaryReport.render(old, dir, List.of());
            assertTrue(summary.contains("## Measured peaks\n\nThese ceilings are the best rates of our own kernels"), f.toString());
            assertTrue(old.peers().stream().allMatch(p -> p.model().equals(PeerResult.KERAS_PORT)), f.toString());
            for (ThroughputResult t : old.throughput()) {
                PeerResult.best(old.peers(), t).ifPresent(p -> assertTrue(summary.contains("| " + p.model() + " " + p.mode() + " |"), f.toString()));
            }
            Csv.writeThroughput(dir.resolve("tp.csv"), old.throughput(), old.peers());
        }
    }

    @Test
    void foreignOrBrokenJsonIsRejectedNamingTheFile(@TempDir Path dir) throws Exception {
        Path peaks = dir.resolve("peaks.json");
        Files.writeString(peaks, "{\"NVIDIA H100\": {\"device\": \"x\", \"gflops\": 1, \"gbps\": 1}}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JsonReport.read(peaks));
        assertTrue(e.getMessage().startsWith(peaks + " is not a report written by 'jxception bench --json': no 'command' field"), e.getMessage());

        Path truncated = dir.resolve("t.json");
        String full = Json.write(JsonReport.toJson(report()));
        Files.writeString(truncated, full.substring(0, full.length() / 2));
        e = assertThrows(IllegalArgumentException.class, () -> JsonReport.read(truncated));
        assertTrue(e.getMessage().contains("at character"), e.getMessage());

        Path badKernel = dir.resolve("k.json");
        Files.writeString(badKernel, full.replaceFirst("\"sepconv_bn\"", "\"winograd\""));
        e = assertThrows(IllegalArgumentException.class, () -> JsonReport.read(badKernel));
        assertTrue(e.getMessage().endsWith("unknown kernel 'winograd'"), e.getMessage());
    }
}
