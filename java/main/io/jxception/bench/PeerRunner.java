package io.jxception.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Runs the PyTorch peer script (benchmarks/peers/pytorch_xception.py) as a child process and reads
 * its JSON. A missing script, interpreter or torch is not an error: the outcome then carries a
 * "peer unavailable: ..." note instead of results.
 */
public final class PeerRunner {
    private PeerRunner() {}

    public record Outcome(List<PeerResult> results, List<String> notes) {}

    /**
     * @param device              "cpu" or "cuda"
     * @param precisions          peer precisions: fp32, tf32, bf16, fp16
     * @param expectedParameters  our network's parameter count: a peer with another count is not the same network
     */
    public static Outcome run(BenchOptions.PeerOptions o, String device, List<String> precisions, List<Integer> batches,
                              int size, int warmup, int iterations, long expectedParameters) {
        List<String> notes = new ArrayList<>();
        if (o.script() == null || !Files.isRegularFile(o.script())) {
            notes.add("peer unavailable: pytorch " + device + ": no script at " + o.script()
                    + " (run from the repository root or pass --peer-script)");
            return new Outcome(List.of(), notes);
        }
        List<String> pythons = o.python() != null ? List.of(o.python()) : List.of("python3", "/usr/bin/python3");
        String lastReason = "no python interpreter tried";
        for (String python : pythons) {
            List<String> cmd = new ArrayList<>(List.of(python, o.script().toString(), "--device", device,
                    "--precision", String.join(",", precisions),
                    "--batch", batches.stream().map(String::valueOf).collect(Collectors.joining(",")),
                    "--size", String.valueOf(size), "--warmup", String.valueOf(warmup), "--iterations", String.valueOf(iterations)));
            if (device.equals("cpu") && o.cpuThreads() > 0) cmd.addAll(List.of("--threads", String.valueOf(o.cpuThreads())));
            if (device.equals("cuda") && o.compile()) cmd.add("--compile");
            String stdout, stderr;
            int rc;
            try {
                Path err = Files.createTempFile("jxception-peer", ".log");
                try {
                    Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
                    p.getOutputStream().close();
                    stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                    rc = p.waitFor();
                    stderr = Files.readString(err, StandardCharsets.UTF_8).trim();
                } finally {
                    Files.deleteIfExists(err);
                }
            } catch (IOException e) {
                lastReason = "cannot start " + python + ": " + e.getMessage();
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                lastReason = "interrupted";
                break;
            }
            String lastLine = stdout.isEmpty() ? "" : stdout.substring(stdout.lastIndexOf('\n') + 1);
            Map<String, Object> json;
            try {
                json = Json.parseObject(lastLine);
            } catch (IllegalArgumentException e) {
                lastReason = python + " exited with status " + rc + " without JSON output"
                        + (stderr.isEmpty() ? "" : ": " + stderr.substring(Math.max(0, stderr.length() - 500)));
                continue;
            }
            if (json.get("unavailable") != null) {
                lastReason = String.valueOf(json.get("unavailable"));
                continue;
            }
            return parse(json, expectedParameters, notes);
        }
        notes.add("peer unavailable: pytorch " + device + ": " + lastReason);
        return new Outcome(List.of(), notes);
    }

    static Outcome parse(Map<String, Object> json, long expectedParameters, List<String> notes) {
        long params = json.get("parameters") instanceof Double d ? d.longValue() : -1;
        if (params != expectedParameters) {
            notes.add("peer unavailable: its network has " + params + " parameters, ours " + expectedParameters + ": not the same architecture");
            return new Outcome(List.of(), notes);
        }
        String device = json.get("device") + " (" + json.get("device_name") + ")";
        String name = "pytorch " + json.get("torch");
        int size = ((Double) json.get("size")).intValue();
        if (json.get("threads") instanceof Double t && String.valueOf(json.get("device")).equals("cpu")) name += ", " + t.intValue() + " threads";
        List<PeerResult> out = new ArrayList<>();
        for (Object o : (List<?>) json.get("results")) {
            Map<?, ?> r = (Map<?, ?>) o;
            String label = name + " " + r.get("mode") + " channels_last";
            int batch = ((Double) r.get("batch")).intValue();
            if (r.get("error") != null) {
                notes.add("peer " + label + " " + r.get("precision") + " batch " + batch + " failed: " + r.get("error"));
                continue;
            }
            Samples s = new Samples((Double) r.get("median_ms") / 1e3, (Double) r.get("min_ms") / 1e3,
                    (Double) r.get("max_ms") / 1e3, ((Double) r.get("samples")).intValue());
            out.add(new PeerResult(label, device, String.valueOf(r.get("precision")), batch, size, s, Double.NaN));
        }
        return new Outcome(out, notes);
    }
}
