package io.jxception.bench;

import io.jxception.internal.exec.NodeSpecs;
import io.jxception.internal.json.Json;
import io.jxception.model.Node;
import io.jxception.model.XceptionGraph;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Runs the per-layer cuDNN peer (benchmarks/peers/cudnn_layers.py) on the launches of one batch
 * size: each fused launch's geometry goes to its stdin as JSON, the times of PyTorch eager doing the
 * same work come back on stdout. A missing script, interpreter, torch or GPU is not an error: the
 * outcome then carries a "cuDNN per layer unavailable: ..." note instead of results.
 * <p>
 * Why through torch: JCudnn 11.7.0, the newest on Maven Central, links libcudnn.so.8 (cuDNN 8) and
 * the GPU machines have cuDNN 9 only inside torch's wheels. From the JVM, the JavaCPP preset
 * org.bytedeco:cuda 13.1-9.19-1.5.13 binds cuDNN 9: {@link CudnnPeer} times the same geometry with
 * cuDNN's legacy API in-process ({@link CudnnPlan}), its rows labelled "cudnn9-jvm" beside these
 * (unverified on a GPU until a device run of the suite step; see benchmarks/README.md).
 */
public final class LayerPeerRunner {
    private LayerPeerRunner() {}

    public record Outcome(List<LayerPeerResult> results, List<String> notes, boolean unavailable) {}

    /** Seconds the script may take for one batch size: torch's start, then 45 launches (fewer shapes) in up to four precisions. */
    static final long BUDGET_SECONDS = 120;

    /** The request on the script's stdin: every launch of one forward at {@code batch}, in graph order. */
    static String request(XceptionGraph graph, int batch, List<String> precisions, int warmup, int iterations) {
        List<Object> layers = new ArrayList<>();
        for (int i = 0; i < graph.nodes().size(); i++) {
            Node node = graph.nodes().get(i);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("index", i);
            m.put("node", node.name());
            m.put("kernel", Kernel.of(node).kernelName());
            if (node instanceof Node.Conv c) {
                var s = NodeSpecs.conv(graph, c, batch);
                m.put("n", s.n()); m.put("h", s.h()); m.put("w", s.w()); m.put("cin", s.cin()); m.put("cout", s.cout());
                m.put("stride", s.stride()); m.put("pre_relu", c.preRelu()); m.put("post_relu", c.postRelu()); m.put("residual", c.residual() >= 0);
            } else if (node instanceof Node.MaxPoolAdd p) {
                var s = NodeSpecs.pool(graph, p, batch);
                m.put("n", s.n()); m.put("h", s.h()); m.put("w", s.w()); m.put("c", s.c());
            } else if (node instanceof Node.Head h) {
                var s = NodeSpecs.head(graph, h, batch);
                m.put("n", s.n()); m.put("h", s.h()); m.put("w", s.w()); m.put("channels", s.channels()); m.put("dense", s.dense());
                m.put("pooling", s.pooling().name().toLowerCase(Locale.ROOT)); m.put("classes", s.classes());
            }
            layers.add(m);
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("layers", layers);
        root.put("precisions", precisions);
        root.put("warmup", warmup);
        root.put("iterations", iterations);
        return Json.write(root);
    }

    /**
     * @param device        "cuda" (cuDNN), or "cpu" (the script's own test: PyTorch's CPU kernels)
     * @param budgetSeconds wall time before the child is killed (launches it finished are kept); 0: no limit
     */
    public static Outcome run(BenchOptions.PeerOptions o, String device, XceptionGraph graph, int batch, List<String> precisions,
                              int warmup, int iterations, long budgetSeconds) {
        List<String> notes = new ArrayList<>();
        if (o.layerScript() == null || !Files.isRegularFile(o.layerScript())) {
            notes.add("cuDNN per layer unavailable: no script at " + o.layerScript() + " (run from the repository root or pass --layer-script)");
            return new Outcome(List.of(), notes, true);
        }
        PeerRunner.ScriptAnswer answer = PeerRunner.runScript(o, python -> List.of(python, o.layerScript().toString(), "--device", device),
                request(graph, batch, precisions, warmup, iterations), budgetSeconds);
        if (answer.json() == null) {
            notes.add("cuDNN per layer unavailable: " + answer.failure());
            return new Outcome(List.of(), notes, !answer.budgetSpent());
        }
        if (answer.timedOut()) notes.add("cuDNN per layer batch " + batch + ": stopped at its budget of " + budgetSeconds + " s" + answer.doing());
        return new Outcome(parse(answer.json(), batch, notes), notes, false);
    }

    static List<LayerPeerResult> parse(Map<String, Object> json, int batch, List<String> notes) {
        String peer = "cudnn: " + json.get("library");
        String device = json.get("device") + " (" + json.get("device_name") + ")";
        List<LayerPeerResult> out = new ArrayList<>();
        for (Object o : (List<?>) json.get("results")) {
            Map<?, ?> r = (Map<?, ?>) o;
            if (r.get("error") != null) {
                notes.add("cuDNN per layer " + r.get("precision") + " batch " + batch + " " + r.get("node") + " failed: " + r.get("error"));
                continue;
            }
            out.add(new LayerPeerResult(peer, device, String.valueOf(r.get("precision")), batch, (int) Json.number(r.get("index")),
                    String.valueOf(r.get("node")), String.valueOf(r.get("ops")), PeerRunner.samples(r)));
        }
        return out;
    }
}
