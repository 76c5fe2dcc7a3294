package io.jxception.bench;

import io.jxception.backend.Precision;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** "ours / best PyTorch": every configuration against the fastest PyTorch row that ran it, named. */
class BestPyTorchRowTest {
    private static final String H200 = CardPeaksTest.CUDA_BF16;

    static PeerResult peer(String model, String mode, String device, String precision, int batch, double imagesPerSecond) {
        double seconds = batch / imagesPerSecond;
        String label = "pytorch 2.11.0+cu130 " + (model.equals(PeerResult.TIMM) ? "timm 1.0.20 legacy_xception" : model) + " " + mode + " channels_last";
        return new PeerResult(label, model, mode, device, precision, batch, 299, new Samples(seconds, seconds * 0.98, seconds * 1.05, 10),
                mode.startsWith("compile") ? 45.0 : 2.0, 1.0);
    }

    static ThroughputResult ours(String backend, String device, Precision precision, int batch, double imagesPerSecond) {
        double seconds = batch / imagesPerSecond;
        return new ThroughputResult(backend, device, precision, batch, 299, new Samples(seconds, seconds * 0.99, seconds * 1.01, 10),
                "CUDA events", 16_715_000_000L, Double.NaN, 1.0);
    }

    static final List<PeerResult> PEERS = List.of(
            peer(PeerResult.KERAS_PORT, "eager", "cuda (NVIDIA H200)", "bf16", 256, 5732),
            peer(PeerResult.TIMM, "eager", "cuda (NVIDIA H200)", "bf16", 256, 6690),
            peer(PeerResult.TIMM, "compile max-autotune-no-cudagraphs", "cuda (NVIDIA H200)", "bf16", 256, 7400),
            peer(PeerResult.KERAS_PORT, "compile", "cuda (NVIDIA H200)", "bf16", 32, 9000),      // another batch
            peer(PeerResult.TIMM, "eager", "cuda (NVIDIA H200)", "fp32", 256, 1400),
            peer(PeerResult.KERAS_PORT, "eager", "cuda (NVIDIA H100 80GB HBM3)", "fp32", 256, 9999), // another card
            peer(PeerResult.KERAS_PORT, "eager", "cpu (AMD EPYC)", "fp32", 256, 20),
            peer(PeerResult.KERAS_PORT, "eager", "cpu (AMD EPYC)", "bf16", 256, 99999));            // CPU: never beside CUDA

    @Test
    void theBestRowIsTheFastestOfAnyModelAndModeOfTheSameBatchPrecisionAndDevice() {
        ThroughputResult cudaBf16 = ours("cuda:0", H200, Precision.BF16, 256, 6013);
        PeerResult best = PeerResult.best(PEERS, cudaBf16).orElseThrow();
        assertEquals(PeerResult.TIMM, best.model());
        assertEquals("compile max-autotune-no-cudagraphs", best.mode());
        assertEquals(7400, best.imagesPerSecond(), 1e-6);

        // OpenCL on a GPU: PyTorch CUDA on that card, by name
        ThroughputResult openclFp32 = ours("opencl:0", CardPeaksTest.OPENCL_FP32, Precision.FP32, 256, 300);
        assertEquals(1400, PeerResult.best(PEERS, openclFp32).orElseThrow().imagesPerSecond(), 1e-6, "the H100's row is another card");
        // a CPU backend: PyTorch CPU only
        ThroughputResult cpu = ours("opencl:0", CardPeaksTest.POCL_FP32, Precision.FP32, 256, 10);
        assertEquals("cpu (AMD EPYC)", PeerResult.best(PEERS, cpu).orElseThrow().device());
        assertTrue(PeerResult.best(PEERS, ours("cuda:0", H200, Precision.TF32, 256, 2000)).isEmpty(), "no tf32 row");
    }

    @Test
    void theSummaryAndCsvDivideByTheBestRowAndNameIt(@TempDir Path dir) throws Exception {
        List<ThroughputResult> throughput = List.of(ours("cuda:0", H200, Precision.BF16, 256, 6013),
                ours("opencl:0", CardPeaksTest.OPENCL_FP32, Precision.FP32, 256, 700));
        BenchOptions options = new BenchOptions(List.of("cuda", "opencl"), List.of(Precision.BF16, Precision.FP32), List.of(256), 299, 10, 2,
                false, false, dir.resolve("p.json"), BenchOptions.PeerOptions.none(), 1);
        BenchReport r = new BenchReport(options, "jxception bench --backend cuda,opencl", new Machine("Xeon", 16, "Linux", "JVM"),
                Instant.parse("2026-12-01T10:00:00Z"), Instant.parse("2026-12-01T10:05:00Z"), 1, 1, List.of(), throughput, List.of(), PEERS,
                List.of(), List.of());
        String md = SummaryReport.render(r, dir, List.of());
        assertTrue(md.contains("| jxception | cuda:0 | bf16 | 256 |"), md);
        assertTrue(md.matches("(?s).*\\| jxception \\| cuda:0 \\| bf16 \\| 256 \\|[^\\n]*\\| 0\\.81× \\(best [0-9.]+×\\) \\| timm legacy_xception "
                + "compile max-autotune-no-cudagraphs \\| 1\\.0 \\|\\n.*"), md);
        assertTrue(md.matches("(?s).*\\| jxception \\| opencl:0 \\| fp32 \\| 256 \\|[^\\n]*\\| 0\\.50× \\(best [0-9.]+×\\) \\| timm legacy_xception eager \\|.*"), md);
        assertTrue(md.contains("## torch.compile"), md);
        assertTrue(md.contains("| timm legacy_xception | compile max-autotune-no-cudagraphs | bf16 | 256 | 45.0 | 7,400.00 |"), md);

        Path csv = dir.resolve("tp.csv");
        Csv.writeThroughput(csv, throughput, PEERS);
        List<List<String>> rows = Csv.read(csv);
        int best = rows.get(0).indexOf("best_pytorch"), ratio = rows.get(0).indexOf("ours_over_best_pytorch"),
                mode = rows.get(0).indexOf("mode"), first = rows.get(0).indexOf("first_call_s");
        assertEquals("pytorch 2.11.0+cu130 timm 1.0.20 legacy_xception compile max-autotune-no-cudagraphs channels_last", rows.get(1).get(best));
        assertEquals(6013 / 7400.0, Double.parseDouble(rows.get(1).get(ratio)), 1e-5);
        assertEquals("compile max-autotune-no-cudagraphs", rows.get(5).get(mode), "peer rows after ours, in report order");
        assertEquals("45", rows.get(5).get(first));
    }
}
