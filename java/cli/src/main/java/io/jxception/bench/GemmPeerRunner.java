package io.jxception.bench;

import io.jxception.internal.json.Json;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the cuBLAS peer script (benchmarks/peers/cublas_gemms.py: torch.mm, which is cuBLAS on CUDA)
 * on the pointwise GEMMs of one batch size: the shapes go to its stdin as JSON, the times come back
 * on stdout. A missing script, interpreter, torch or GPU is not an error: the outcome then carries a
 * "cuBLAS (torch) unavailable: ..." note instead of results.
 */
public final class GemmPeerRunner {
    private GemmPeerRunner() {}

    public record Outcome(List<GemmPeerResult> results, List<String> notes) {}

    /** What the script reads on stdin. */
    static String request(List<PointwiseGemm> gemms, List<String> precisions, int warmup, int iterations) {
        List<Object> rows = new ArrayList<>();
        for (PointwiseGemm g : gemms) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("index", g.index());
            m.put("node", g.node());
            m.put("m", g.m());
            m.put("n", g.n());
            m.put("k", g.k());
            rows.add(m);
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("gemms", rows);
        root.put("precisions", precisions);
        root.put("warmup", warmup);
        root.put("iterations", iterations);
        return Json.write(root);
    }

    /**
     * @param device        "cuda" (cuBLAS), or "cpu" (the script's own test: torch's CPU BLAS)
     * @param budgetSeconds wall time before the child is killed (shapes it finished are kept); 0: no limit
     */
    public static Outcome run(BenchOptions.PeerOptions o, String device, List<PointwiseGemm> gemms, List<String> precisions, int batch,
                              int warmup, int iterations, long budgetSeconds) {
        List<String> notes = new ArrayList<>();
        if (o.gemmScript() == null || !Files.isRegularFile(o.gemmScript())) {
            notes.add("cuBLAS unavailable: torch.mm: no script at " + o.gemmScript() + " (run from the repository root or pass --gemm-script)");
            return new Outcome(List.of(), notes);
        }
        String input = request(gemms, precisions, warmup, iterations);
        PeerRunner.ScriptAnswer answer = PeerRunner.runScript(o, python -> List.of(python, o.gemmScript().toString(), "--device", device),
                input, budgetSeconds);
        if (answer.json() != null) {
            if (answer.timedOut()) notes.add("cuBLAS (torch) batch " + batch + ": stopped at its budget of " + budgetSeconds + " s; the shapes it finished are kept");
            return new Outcome(parse(answer.json(), batch, notes), notes);
        }
        String lastReason = answer.failure();
        notes.add("cuBLAS unavailable: torch.mm: " + lastReason);
        return new Outcome(List.of(), notes);
    }

    static List<GemmPeerResult> parse(Map<String, Object> json, int batch, List<String> notes) {
        String peer = "cublas: " + json.get("library");
        String device = json.get("device") + " (" + json.get("device_name") + ")";
        List<GemmPeerResult> out = new ArrayList<>();
        for (Object o : (List<?>) json.get("results")) {
            Map<?, ?> r = (Map<?, ?>) o;
            String what = "cuBLAS (torch) " + r.get("precision") + " batch " + batch + " " + r.get("node");
            if (r.get("error") != null) {
                notes.add(what + " failed: " + r.get("error"));
                continue;
            }
            Samples s = PeerRunner.samples(r);
            out.add(new GemmPeerResult(peer, device, String.valueOf(r.get("precision")), batch, (int) Json.number(r.get("index")),
                    String.valueOf(r.get("node")), (long) Json.number(r.get("m")), (int) Json.number(r.get("n")),
                    (int) Json.number(r.get("k")), s));
        }
        return out;
    }
}
