package io.jxception.cli;

import io.jxception.internal.backend.KernelBackend;
import io.jxception.backend.Backends;
import io.jxception.bench.Csv;
import io.jxception.bench.PeakCache;
import io.jxception.bench.Peaks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

class BenchCommandTest {
    private static final Pattern ROW = Pattern.compile("(?m)^cpu +fp32 +1 +([0-9.]+) +([0-9.]+) +([0-9.]+) ");

    @Test
    void cpuBenchAt71PrintsImagesPerSecondAndWritesOneCsvRowPerLaunch(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("layers.csv");
        Path peaks = dir.resolve("peaks.json");
        try (KernelBackend cpu = KernelBackend.cpu()) { // a cached entry: the command must use it instead of measuring
            PeakCache.load(peaks, w -> fail(w)).put(new Peaks(cpu.description(), 2e9, 10e9, "seeded", "seeded", "2026-01-01T00:00:00Z"));
        }
        Cli.Result r = Cli.run("bench", "--backend", "cpu", "--size", "71", "--batch", "1", "--warmup", "0", "--iterations", "1",
                "--no-peers", "--peaks-file", peaks.toString(), "--per-layer", "--csv", csv.toString());
        assertEquals(0, r.exitCode(), r.toString());
        Matcher m = ROW.matcher(r.out());
        assertTrue(m.find(), r.toString());
        double imagesPerSecond = Double.parseDouble(m.group(1)), best = Double.parseDouble(m.group(2)), msPerBatch = Double.parseDouble(m.group(3));
        assertTrue(imagesPerSecond > 0 && Double.isFinite(imagesPerSecond), r.toString());
        assertTrue(best >= imagesPerSecond, "the fastest repetition is at least the median: " + r);
        assertEquals(1000 / msPerBatch, imagesPerSecond, imagesPerSecond * 0.02, "img/s and ms/batch agree");
        assertTrue(r.out().contains("per launch: cpu fp32 batch 1"), r.toString());
        assertTrue(r.out().contains(": 2.0 GFLOP/s, 10.0 GB/s (measured 2026-01-01T00:00:00Z; compute set by jxception cpu, bandwidth by jxception cpu)"),
                r.toString());
        assertTrue(r.out().contains("block14_sepconv2"), r.toString());
        assertEquals(1 + 45, Csv.read(csv).size(), "header + 45 fused launches");
    }

    @Test
    void dryRunCountsTheFull299NetworkWithoutRunningIt(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("counts.csv");
        Cli.Result r = Cli.run("bench", "--dry-run", "--backend", "cpu", "--batch", "1,8", "--csv", csv.toString());
        assertEquals(0, r.exitCode(), r.toString());
        List<List<String>> rows = Csv.read(csv);
        assertEquals(1 + 2 * 45, rows.size());
        int flops = rows.get(0).indexOf("flops"), batch = rows.get(0).indexOf("batch");
        double perImage = rows.stream().skip(1).filter(x -> x.get(batch).equals("1")).mapToDouble(x -> Double.parseDouble(x.get(flops))).sum();
        assertEquals(16.715e9, perImage, 0.01 * 16.715e9);
        assertTrue(r.out().contains("counts only"), r.toString());
        assertFalse(Files.exists(dir.resolve("peaks.json")));
    }

    @Test
    void rejectsSizeBelow71EmptyBatchAndUnknownBackends() {
        Cli.Result small = Cli.run("bench", "--backend", "cpu", "--size", "70");
        assertEquals(Failure.USAGE, small.exitCode(), small.toString());
        assertTrue(small.err().contains("--size must be from 71 to 8192, got 70"), small.toString());
        Cli.Result zero = Cli.run("bench", "--backend", "cpu", "--batch", "1,0");
        assertEquals(Failure.USAGE, zero.exitCode(), zero.toString());
        assertTrue(zero.err().contains("--batch must be at least 1"), zero.toString());
        Cli.Result tpu = Cli.run("bench", "--backend", "cpu,tpu");
        assertEquals(Failure.USAGE, tpu.exitCode(), tpu.toString());
        assertTrue(tpu.err().contains("unknown backend 'tpu'"), tpu.toString());
    }

    @Test
    void nothingMeasuredIsARuntimeFailureThatSaysWhy(@TempDir Path dir) {
        // the reference runs fp32 only, so every configuration is skipped with its reason
        Cli.Result r = Cli.run("bench", "--backend", "cpu", "--precision", "bf16", "--size", "71", "--no-peers", "--peaks-file", dir.resolve("p.json").toString());
        assertEquals(Failure.RUNTIME, r.exitCode(), r.toString());
        assertTrue(r.err().contains("nothing was measured: cpu bf16 unavailable"), r.toString());
    }

    @Test
    void fromJsonRendersASavedReportWithoutMeasuringAndRejectsOtherJson(@TempDir Path dir) throws Exception {
        Path peaks = dir.resolve("peaks.json"), json = dir.resolve("suite.json");
        try (KernelBackend cpu = KernelBackend.cpu()) {
            PeakCache.load(peaks, w -> fail(w)).put(new Peaks(cpu.description(), 2e9, 10e9, "seeded", "seeded", "2026-01-01T00:00:00Z"));
        }
        Cli.Result run = Cli.run("bench", "--backend", "cpu", "--size", "71", "--warmup", "0", "--iterations", "1", "--no-peers",
                "--peaks-file", peaks.toString(), "--per-layer", "--json", json.toString(), "--csv", dir.resolve("live.csv").toString());
        assertEquals(0, run.exitCode(), run.toString());

        Cli.Result r = Cli.run("bench", "--from-json", json.toString(), "--report", dir.resolve("out").toString(),
                "--csv", dir.resolve("rendered.csv").toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(Files.readString(dir.resolve("live.csv")), Files.readString(dir.resolve("rendered.csv")));
        try (var files = Files.list(dir.resolve("out"))) {
            List<String> names = files.map(f -> f.getFileName().toString()).sorted().toList();
            assertEquals(5, names.size(), names.toString());
            assertTrue(names.stream().anyMatch(n -> n.startsWith("SUMMARY-") && n.endsWith(".md")), names.toString());
        }
        String tables = "(?m)^(model|wrote) .*\\n";
        assertEquals(run.out().replaceAll(tables, ""), r.out().replaceAll(tables, ""), "the same tables on stdout");
        assertTrue(r.out().contains("(report read from " + json + ")"), r.toString());

        Cli.Result foreign = Cli.run("bench", "--from-json", peaks.toString());
        assertEquals(Failure.RUNTIME, foreign.exitCode(), foreign.toString());
        assertTrue(foreign.err().contains(peaks + " is not a report written by 'jxception bench --json'"), foreign.toString());
        Cli.Result missing = Cli.run("bench", "--from-json", dir.resolve("nope.json").toString());
        assertEquals(Failure.RUNTIME, missing.exitCode(), missing.toString());
        assertTrue(missing.err().contains("no such file"), missing.toString());
        Cli.Result mixed = Cli.run("bench", "--from-json", json.toString(), "--backend", "cpu", "--per-layer");
        assertEquals(Failure.USAGE, mixed.exitCode(), mixed.toString());
        assertTrue(mixed.err().contains("measures nothing: drop --backend, --per-layer"), mixed.toString());
    }

    @Test
    void aGpuReportWithCublasPeersRendersItsGemmColumnsTablesAndSummary(@TempDir Path dir) throws Exception {
        // what the device step writes (suite.json with gemm_peers), rendered here as the lead does
        Path json = dir.resolve("suite.json");
        io.jxception.bench.JsonReport.write(json, io.jxception.bench.JsonReportReadTest.report());
        Cli.Result r = Cli.run("bench", "--from-json", json.toString(), "--report", dir.resolve("results").toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().contains("pointwise GEMMs against cuBLAS"), r.out());
        assertTrue(r.out().matches("(?s).*\\ncuda:0 bf16 batch 32 +38 .*"), r.out());
        Path results = dir.resolve("results");
        String summary = Files.readString(results.resolve("SUMMARY-nvidia-h100-80gb-hbm3-2026-11-26.md"));
        assertTrue(summary.contains("## Pointwise GEMMs against cuBLAS"), summary);
        assertTrue(summary.contains("| cuda:0 bf16 batch 32 | 38 |"), summary);
        // ours 32 / 22.8 ms against compile's 32 / 17 ms, the only (so the best) PyTorch row at batch 32
        assertTrue(summary.matches("(?s).*\\| jxception \\| cuda:0 \\| bf16 \\| 32 \\|[^\\n]*\\| 0\\.75× \\(best [0-9.]+×\\) \\| keras-port compile \\| 1\\.5 \\|\\n.*"), summary);
        List<String> header = io.jxception.bench.Csv.read(results.resolve("layers-nvidia-h100-80gb-hbm3-2026-11-26.csv")).get(0);
        assertTrue(header.containsAll(List.of("gemm_peer", "gemm_peer_ms", "gemm_peer_speedup")), header.toString());
    }

    @Test
    void ratesKeepThreeSignificantDigitsWithoutExponent() {
        assertEquals("0.0812", BenchCommand.rate(0.08123));
        assertEquals("0.000123", BenchCommand.rate(0.0001234));
        assertEquals("8.12", BenchCommand.rate(8.1234));
        assertEquals("20123.5", BenchCommand.rate(20123.46));
    }
}
