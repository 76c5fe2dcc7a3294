package io.jxception.bench;

import io.jxception.internal.json.Json;
import io.jxception.backend.Precision;
import io.jxception.model.XceptionGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/** The whole suite, CI-sized: the Java reference backend at 71×71, batches 1 and 2, per launch, every output file. */
class BenchSuiteSmokeTest {
    @Test
    void cpuSuiteWritesOneCsvRowPerFusedLaunchAndEveryReportFile(@TempDir Path dir) throws Exception {
        Path peaksFile = dir.resolve("cache/peaks.json");
        BenchOptions options = new BenchOptions(List.of("cpu"), List.of(Precision.FP32), List.of(1, 2), 71, 1, 0, true, false,
                peaksFile, BenchOptions.PeerOptions.none(), 1);
        BenchReport report = new BenchSuite(options, Progress.NONE).run("jxception bench --backend cpu --size 71");
        assertEquals(List.of(), report.notes().stream().filter(n -> !n.startsWith("cpu: ")).toList(), "nothing failed");

        List<Path> files = ReportFiles.write(report, dir.resolve("results"));
        String base = report.deviceSlug() + "-" + report.date();
        Path layersCsv = dir.resolve("results/layers-" + base + ".csv");
        assertTrue(files.contains(layersCsv));
        List<List<String>> rows = Csv.read(layersCsv);
        assertEquals(Csv.LAYER_HEADER, rows.get(0));
        XceptionGraph graph = BenchSuite.graph(71);
        int launches = graph.nodes().size();
        assertEquals(1 + 2 * launches, rows.size(), "header + one row per fused launch per batch size");
        int batch = col("batch"), index = col("index"), node = col("node"), flops = col("flops"), time = col("time_ms"),
                fraction = col("floor_fraction"), gflops = col("gflops");
        for (String b : List.of("1", "2")) {
            List<List<String>> sel = rows.stream().skip(1).filter(r -> r.get(batch).equals(b)).toList();
            assertEquals(launches, sel.size());
            for (int i = 0; i < launches; i++) {
                List<String> r = sel.get(i);
                assertEquals(String.valueOf(i), r.get(index));
                assertEquals(graph.nodes().get(i).name(), r.get(node));
                assertTrue(Double.parseDouble(r.get(time)) > 0, "timed: " + r);
                assertTrue(Double.parseDouble(r.get(fraction)) > 0, "floor fraction: " + r);
                if (Long.parseLong(r.get(flops)) > 0) assertTrue(Double.parseDouble(r.get(gflops)) > 0, r.toString());
            }
            long sum = sel.stream().mapToLong(r -> Long.parseLong(r.get(flops))).sum();
            long perImage = report.throughput().stream().filter(t -> t.batch() == Integer.parseInt(b)).findFirst().orElseThrow().flopsPerImage();
            assertEquals(perImage * Integer.parseInt(b), sum, "throughput and layer rows count the same FLOPs");
        }

        List<List<String>> tp = Csv.read(dir.resolve("results/throughput-" + base + ".csv"));
        assertEquals(3, tp.size());
        int ips = Csv.THROUGHPUT_HEADER.indexOf("images_per_second");
        for (List<String> r : tp.subList(1, 3)) assertTrue(Double.parseDouble(r.get(ips)) > 0, r.toString());

        Map<String, Path> pngs = files.stream().filter(f -> f.toString().endsWith(".png"))
                .collect(Collectors.toMap(f -> f.getFileName().toString(), f -> f));
        assertEquals(java.util.Set.of("roofline-cpu-fp32.png", "layers-cpu-fp32-b1.png", "layers-cpu-fp32-b2.png", "throughput.png"), pngs.keySet());
        for (Path png : pngs.values()) {
            byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(png), 8);
            assertArrayEquals(new byte[]{(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, head, png + " is a PNG");
        }
        String summary = Files.readString(dir.resolve("results/SUMMARY-" + base + ".md"));
        assertTrue(summary.contains("| jxception | cpu | fp32 | 1 |"), summary);
        assertTrue(summary.contains("](plots-" + base + "/roofline-cpu-fp32.png)"), summary);
        Map<String, Object> json = Json.parseObject(Files.readString(dir.resolve("results/report-" + base + ".json")));
        assertEquals(2 * launches, ((List<?>) json.get("layers")).size());

        // The peaks were measured once and cached by the backend's description; the next run reuses them.
        Peaks measured = report.peaks().get(0);
        assertTrue(PeakCache.load(peaksFile, w -> fail(w)).get(measured.device()).isPresent());
        BenchOptions again = new BenchOptions(List.of("cpu"), List.of(Precision.FP32), List.of(1), 71, 1, 0, false, false,
                peaksFile, BenchOptions.PeerOptions.none(), 1);
        BenchReport second = new BenchSuite(again, Progress.NONE).run("again");
        assertEquals(measured.measuredAt(), second.peaks().get(0).measuredAt());
        assertEquals(measured.flopsPerSecond(), second.peaks().get(0).flopsPerSecond(), measured.flopsPerSecond() * 1e-9);
        assertEquals(launches, second.layers().size(), "one row per launch without perLayer too");
        assertTrue(second.layers().stream().noneMatch(LayerResult::isTimed), "counted, not timed, without perLayer");
    }

    @Test
    void unknownBackendNamesFailBeforeAnyWorkAndUnavailableOnesBecomeNotes(@TempDir Path dir) {
        BenchOptions bad = new BenchOptions(List.of("tpu"), List.of(Precision.FP32), List.of(1), 71, 1, 0, false, false,
                dir.resolve("p.json"), BenchOptions.PeerOptions.none(), 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new BenchSuite(bad, Progress.NONE).run("x"));
        assertTrue(e.getMessage().contains("unknown backend 'tpu'"), e.getMessage());

        BenchOptions missing = new BenchOptions(List.of("cpu:7"), List.of(Precision.FP32), List.of(1), 71, 1, 0, false, false,
                dir.resolve("p.json"), BenchOptions.PeerOptions.none(), 1);
        BenchReport r = new BenchSuite(missing, Progress.NONE).run("x");
        assertTrue(r.throughput().isEmpty());
        assertTrue(r.notes().get(0).startsWith("cpu:7 fp32 unavailable: "), r.notes().toString());
    }

    private static int col(String name) {
        int i = Csv.LAYER_HEADER.indexOf(name);
        assertTrue(i >= 0, name);
        return i;
    }
}
