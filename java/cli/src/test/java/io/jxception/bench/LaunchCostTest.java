package io.jxception.bench;

import io.jxception.backend.Precision;
import io.jxception.model.Node;
import io.jxception.model.XceptionGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class LaunchCostTest {
    private static final XceptionGraph FULL = BenchSuite.graph(299);

    private static Node node(XceptionGraph g, String name) {
        return g.nodes().stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void fullNetworkCountsKerasFlopsInTheCsvFlopsColumn(@TempDir Path dir) throws Exception {
        // The CSV the suite writes, from counts-only rows (the same rows the suite times), summed back.
        Path csv = dir.resolve("layers.csv");
        Csv.writeLayers(csv, LayerResult.count(FULL, 1, Precision.FP32, "counts", "no device"), List.of());
        List<List<String>> rows = Csv.read(csv);
        int flops = rows.get(0).indexOf("flops");
        assertTrue(flops >= 0, "CSV has a flops column");
        assertEquals(FULL.nodes().size() + 1, rows.size(), "header + one row per fused launch");
        double sum = rows.stream().skip(1).mapToDouble(r -> Double.parseDouble(r.get(flops))).sum();
        assertEquals(16.715e9, sum, 0.01 * 16.715e9, "2 x multiply-adds of convs and dense, per 299x299 image");
        System.out.printf("counted FLOPs per 299x299 image: %.4f GFLOP%n", sum / 1e9);
    }

    private static Node residualConv(XceptionGraph g, int cin, int cout) {
        return g.nodes().stream().filter(n -> n instanceof Node.Conv c && c.kind() == io.jxception.model.ConvKind.CONV1X1_SAME
                && c.cin() == cin && c.cout() == cout).findFirst().orElseThrow();
    }

    @Test
    void flopsAreTwicePerMultiplyAddAndScaleWithBatch() {
        // block5_sepconv1: (19,19,728) -> 728: depthwise 9*728 + pointwise 728*728 MACs per pixel
        long pixels = 19 * 19;
        long macs = pixels * (9L * 728 + 728L * 728);
        Node n = node(FULL, "block5_sepconv1");
        assertEquals(2 * macs, LaunchCost.of(FULL, n, 1, Precision.FP32).flops());
        assertEquals(2 * 8 * macs, LaunchCost.of(FULL, n, 8, Precision.FP32).flops());
        // stem conv 3x3 stride 2 valid: 299 -> 149, 3 -> 32
        assertEquals(2L * 149 * 149 * 9 * 3 * 32, LaunchCost.of(FULL, node(FULL, "block1_conv1"), 1, Precision.FP32).flops());
        // dense 2048 -> 1000 (the average pool is not counted)
        assertEquals(2L * 2048 * 1000, LaunchCost.of(FULL, node(FULL, "predictions"), 1, Precision.FP32).flops());
        assertEquals(0, LaunchCost.of(FULL, node(FULL, "block2_pool"), 1, Precision.FP32).flops());
    }

    @Test
    void bytesReadEachInputOnceWriteEachOutputOnceAndReadWeightsOnce() {
        long act = 19L * 19 * 728;
        long weights = 9L * 728 + 728L * 728 + 2 * 728; // depthwise, pointwise, folded BN scale + shift
        assertEquals(4 * (act + act + weights), LaunchCost.of(FULL, node(FULL, "block5_sepconv1"), 1, Precision.FP32).bytes());
        // the third middle conv also reads the residual
        assertEquals(4 * (3 * act + weights), LaunchCost.of(FULL, node(FULL, "block5_sepconv3"), 1, Precision.FP32).bytes());
        // weights are read once per launch, whatever the batch
        assertEquals(4 * (8 * 3 * act + weights), LaunchCost.of(FULL, node(FULL, "block5_sepconv3"), 8, Precision.FP32).bytes());
        // block2_pool: x (147,147,128), residual and y (74,74,128)
        assertEquals(4 * (147L * 147 * 128 + 2L * 74 * 74 * 128), LaunchCost.of(FULL, node(FULL, "block2_pool"), 1, Precision.FP32).bytes());
        // head: x (10,10,2048), kernel (2048,1000), bias, probabilities (1000)
        assertEquals(4 * (100L * 2048 + 2048L * 1000 + 1000 + 1000), LaunchCost.of(FULL, node(FULL, "predictions"), 1, Precision.FP32).bytes());
        // block2 residual conv 1x1 stride 2: reads only the (74,74,64) pixels on its stride grid of the (147,147,64) input
        assertEquals(4 * (74L * 74 * 64 + 74L * 74 * 128 + 64L * 128 + 2 * 128),
                LaunchCost.of(FULL, residualConv(FULL, 64, 128), 1, Precision.FP32).bytes());
        // bf16 storage halves every byte
        assertEquals(LaunchCost.of(FULL, node(FULL, "block5_sepconv1"), 4, Precision.FP32).bytes(),
                2 * LaunchCost.of(FULL, node(FULL, "block5_sepconv1"), 4, Precision.BF16).bytes());
    }

    @Test
    void floorIsTheSlowerOfComputeAndMemory() {
        Peaks peaks = new Peaks("test device", 100e9, 10e9, "probe", "probe", "now");
        LaunchCost gemmLike = new LaunchCost(2_000_000_000L, 40_000_000L); // 50 FLOP/B > ridge 10
        assertEquals(0.02, gemmLike.floorSeconds(peaks), 1e-12);
        assertEquals("compute", gemmLike.bound(peaks));
        LaunchCost copyLike = new LaunchCost(1_000_000L, 100_000_000L);
        assertEquals(0.01, copyLike.floorSeconds(peaks), 1e-12);
        assertEquals("memory", copyLike.bound(peaks));
        assertEquals(10.0, peaks.ridgeIntensity(), 1e-12);
    }
}
