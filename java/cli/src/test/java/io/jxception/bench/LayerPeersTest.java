package io.jxception.bench;

import io.jxception.backend.Precision;
import io.jxception.internal.json.Json;
import io.jxception.model.XceptionGraph;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The per-layer cuDNN peer: what it is asked, how its rows find our launches, and what it says when it cannot run. */
class LayerPeersTest {
    private static final Path SCRIPT = Path.of("benchmarks/peers/cudnn_layers.py");

    static BenchOptions.PeerOptions options(Path layerScript) {
        return new BenchOptions.PeerOptions(true, null, null, 1, 0, null, null, List.of("keras"), List.of(), List.of(), null, layerScript);
    }

    @Test
    void theRequestDescribesEveryFusedLaunchOfTheForward() {
        XceptionGraph graph = BenchSuite.graph(299);
        Map<String, Object> request = Json.parseObject(LayerPeerRunner.request(graph, 2, List.of("fp32", "bf16"), 3, 20));
        List<?> layers = (List<?>) request.get("layers");
        assertEquals(graph.nodes().size(), layers.size());
        assertEquals(List.of("fp32", "bf16"), request.get("precisions"));
        Map<?, ?> stem = (Map<?, ?>) layers.get(0);
        assertEquals("conv_bn_relu", stem.get("kernel"));
        assertEquals(List.of(2, 299, 299, 3, 32, 2), List.of(n(stem, "n"), n(stem, "h"), n(stem, "w"), n(stem, "cin"), n(stem, "cout"), n(stem, "stride")));
        assertEquals(true, stem.get("post_relu"));
        for (Object o : layers) {
            Map<?, ?> m = (Map<?, ?>) o;
            LayerResult row = LayerResult.count(graph, 2, Precision.FP32, "cuda:0", "gpu").get(n(m, "index"));
            assertEquals(row.node(), m.get("node"));
            assertEquals(row.kernel().kernelName(), m.get("kernel"));
        }
        Map<?, ?> pool = layers.stream().map(o -> (Map<?, ?>) o).filter(m -> m.get("node").equals("block2_pool")).findFirst().orElseThrow();
        assertEquals(List.of(147, 147, 128), List.of(n(pool, "h"), n(pool, "w"), n(pool, "c")));
        Map<?, ?> head = (Map<?, ?>) layers.get(layers.size() - 1);
        assertEquals("gap_dense_softmax", head.get("kernel"));
        assertEquals(List.of(10, 2048, 1000), List.of(n(head, "h"), n(head, "channels"), n(head, "classes")));
        long residualSeparables = layers.stream().map(o -> (Map<?, ?>) o).filter(m -> Boolean.TRUE.equals(m.get("residual"))).count();
        assertEquals(8, residualSeparables, "each middle block's third separable conv adds its input");
    }

    @Test
    void peerRowsBelongToTheGpuLaunchesOfTheirCardBatchAndPrecision(@TempDir Path dir) throws Exception {
        XceptionGraph graph = BenchSuite.graph(71);
        LayerPeerResult p = new LayerPeerResult("cudnn: torch 2.11.0+cu130 eager (cuDNN 91500, CUDA 13.0)", "cuda (NVIDIA H200)", "fp32", 1, 3,
                "block2_sepconv1", "conv2d depthwise 3x3 'same', conv2d 1x1, batch_norm, relu", new Samples(2e-5, 2e-5, 2e-5, 10));
        List<LayerPeerResult> peers = List.of(p);
        LayerResult cuda = timed(graph, "cuda:0", CardPeaksTest.CUDA_FP32, 3);
        LayerResult opencl = timed(graph, "opencl:0", CardPeaksTest.OPENCL_FP32, 3);
        assertEquals(p, LayerPeerResult.of(peers, cuda).orElseThrow());
        assertEquals(p, LayerPeerResult.of(peers, opencl).orElseThrow(), "OpenCL on the same card has the same peer");
        assertTrue(LayerPeerResult.of(peers, timed(graph, "cuda:0", CardPeaksTest.CUDA_FP32.replace("H200", "H100"), 3)).isEmpty());
        assertTrue(LayerPeerResult.of(peers, timed(graph, "opencl:1", CardPeaksTest.POCL_FP32, 3)).isEmpty());
        assertTrue(LayerPeerResult.of(peers, timed(graph, "cuda:0", CardPeaksTest.CUDA_FP32, 4)).isEmpty(), "another launch");
        assertEquals(1.5, LayerPeerResult.ratio(cuda, p), 1e-12, "our 0.03 ms over its 0.02 ms");

        Path csv = dir.resolve("layers.csv");
        Csv.writeLayers(csv, List.of(cuda, opencl), List.of(), peers);
        List<List<String>> rows = Csv.read(csv);
        int ms = rows.get(0).indexOf("layer_peer_ms"), ratio = rows.get(0).indexOf("layer_peer_ratio");
        assertEquals("0.02", rows.get(1).get(ms));
        assertEquals("1.5", rows.get(2).get(ratio));
    }

    private static LayerResult timed(XceptionGraph graph, String backend, String device, int index) {
        return LayerResult.count(graph, 1, Precision.FP32, backend, device).get(index).timed(new Samples(3e-5, 3e-5, 3e-5, 10), null, "events");
    }

    @Test
    void theScriptTimesEveryLaunchOnTheCpu() {
        // Runs where python3 (or Debian's /usr/bin/python3) has torch; on the GPU machine the suite runs it with --device cuda.
        XceptionGraph graph = BenchSuite.graph(71);
        LayerPeerRunner.Outcome o = LayerPeerRunner.run(options(SCRIPT), "cpu", graph, 1, List.of("fp32"), 0, 1, 300);
        Assumptions.assumeTrue(o.notes().isEmpty() || !o.notes().get(0).contains("torch not found"), "no python with torch here: " + o.notes());
        assertEquals(List.of(), o.notes());
        assertEquals(graph.nodes().size(), o.results().size());
        for (int i = 0; i < o.results().size(); i++) {
            LayerPeerResult r = o.results().get(i);
            assertEquals(i, r.index());
            assertEquals(graph.nodes().get(i).name(), r.node());
            assertTrue(r.time().median() > 0 && !r.ops().isBlank(), r.toString());
        }
        assertTrue(o.results().get(0).ops().startsWith("conv2d 3x3/2 'valid', batch_norm, relu"), o.results().get(0).ops());
    }

    @Test
    void withoutScriptOrGpuItIsOneCudnnUnavailableLine(@TempDir Path dir) {
        XceptionGraph graph = BenchSuite.graph(71);
        LayerPeerRunner.Outcome o = LayerPeerRunner.run(options(dir.resolve("missing.py")), "cuda", graph, 1, List.of("fp32"), 0, 1, 10);
        assertTrue(o.unavailable());
        assertEquals(List.of("cuDNN per layer unavailable: no script at " + dir.resolve("missing.py")
                + " (run from the repository root or pass --layer-script)"), o.notes());
        o = LayerPeerRunner.run(options(SCRIPT), "cuda", graph, 1, List.of("fp32"), 0, 1, 120);
        Assumptions.assumeTrue(o.results().isEmpty(), "a GPU here");
        assertTrue(o.unavailable());
        assertTrue(o.notes().get(0).startsWith("cuDNN per layer unavailable: ") && !o.notes().get(0).contains("\n"), o.notes().get(0));
    }

    private static int n(Map<?, ?> m, String key) { return (int) Json.number(m.get(key)); }
}
