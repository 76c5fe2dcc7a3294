package io.jxception.bench;

import io.jxception.internal.json.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
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
     * @param mode                "eager", or "compile" (torch.compile)
     * @param precisions          peer precisions: fp32, tf32, bf16, fp16
     * @param budgetSeconds       wall time before the child is killed (results it finished are kept); 0: no limit
     * @param expectedParameters  our network's parameter count: a peer with another count is not the same network
     */
    public static Outcome run(BenchOptions.PeerOptions o, String device, String mode, List<String> precisions, List<Integer> batches,
                              int size, int warmup, int iterations, long budgetSeconds, long expectedParameters) {
        List<String> notes = new ArrayList<>();
        String what = "pytorch " + device + (mode.equals("eager") ? "" : " " + mode);
        if (o.script() == null || !Files.isRegularFile(o.script())) {
            notes.add("peer unavailable: " + what + ": no script at " + o.script()
                    + " (run from the repository root or pass --peer-script)");
            return new Outcome(List.of(), notes);
        }
        ScriptAnswer answer = runScript(o, python -> {
            List<String> cmd = new ArrayList<>(List.of(python, o.script().toString(), "--device", device, "--modes", mode,
                    "--precision", String.join(",", precisions),
                    "--batch", batches.stream().map(String::valueOf).collect(Collectors.joining(",")),
                    "--size", String.valueOf(size), "--warmup", String.valueOf(warmup), "--iterations", String.valueOf(iterations)));
            if (device.equals("cpu") && o.cpuThreads() > 0) cmd.addAll(List.of("--threads", String.valueOf(o.cpuThreads())));
            return cmd;
        }, null, budgetSeconds);
        if (answer.json() != null) {
            if (answer.timedOut()) {
                notes.add("peer " + what + ": stopped at its budget of " + budgetSeconds + " s; the rows it finished are kept"
                        + " (" + batches.size() * precisions.size() + " asked)");
            }
            return parse(answer.json(), expectedParameters, notes);
        }
        String lastReason = answer.failure();
        notes.add("peer unavailable: " + what + ": " + lastReason);
        return new Outcome(List.of(), notes);
    }

    /** A peer script's answer: its last JSON object and whether its budget cut it short, or (json null) why there is none. */
    record ScriptAnswer(Map<String, Object> json, boolean timedOut, String failure) {}

    /**
     * Runs {@code command.apply(python)} (stdin: {@code input}, may be null) with each interpreter of
     * {@link #pythons} until one answers with a JSON object other than {"unavailable": ...}. A run that
     * finished nothing within its budget ends the search: another interpreter would take as long.
     */
    static ScriptAnswer runScript(BenchOptions.PeerOptions o, Function<String, List<String>> command, String input, long budgetSeconds) {
        String lastReason = "no python interpreter tried";
        for (String python : pythons(o)) {
            ChildProcess.Result r;
            try {
                r = ChildProcess.run(command.apply(python), input, budgetSeconds);
            } catch (IOException e) {
                lastReason = "cannot start " + python + ": " + e.getMessage();
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                lastReason = "interrupted";
                break;
            }
            Map<String, Object> json = r.lastJsonObject();
            if (json == null) {
                lastReason = r.timedOut() ? "finished nothing within its budget of " + budgetSeconds + " s"
                        : python + " exited with status " + r.exitStatus() + " without JSON output"
                        + (r.stderr().isBlank() ? "" : ": " + r.stderrTail(500));
                if (r.timedOut()) break;
                continue;
            }
            if (json.get("unavailable") != null) {
                lastReason = String.valueOf(json.get("unavailable"));
                continue;
            }
            return new ScriptAnswer(json, r.timedOut(), null);
        }
        return new ScriptAnswer(null, false, lastReason);
    }

    /** The timing of one result row of a peer script (milliseconds in the JSON). */
    static Samples samples(Map<?, ?> row) {
        return new Samples(Json.number(row.get("median_ms")) / 1e3, Json.number(row.get("min_ms")) / 1e3,
                Json.number(row.get("max_ms")) / 1e3, (int) Json.number(row.get("samples")));
    }

    /** The interpreters to try: --python, else python3 then Debian's /usr/bin/python3 (which has python3-torch). */
    static List<String> pythons(BenchOptions.PeerOptions o) {
        return o.python() != null ? List.of(o.python()) : List.of("python3", "/usr/bin/python3");
    }

    static Outcome parse(Map<String, Object> json, long expectedParameters, List<String> notes) {
        long params = json.get("parameters") instanceof Number d ? d.longValue() : -1;
        if (params != expectedParameters) {
            notes.add("peer unavailable: its network has " + params + " parameters, ours " + expectedParameters + ": not the same architecture");
            return new Outcome(List.of(), notes);
        }
        String device = json.get("device") + " (" + json.get("device_name") + ")";
        String name = "pytorch " + json.get("torch");
        int size = (int) Json.number(json.get("size"));
        if (json.get("threads") instanceof Number t && String.valueOf(json.get("device")).equals("cpu")) name += ", " + t.intValue() + " threads";
        List<PeerResult> out = new ArrayList<>();
        for (Object o : (List<?>) json.get("results")) {
            Map<?, ?> r = (Map<?, ?>) o;
            String label = name + " " + r.get("mode") + " channels_last";
            int batch = (int) Json.number(r.get("batch"));
            if (r.get("error") != null) {
                notes.add("peer " + label + " " + r.get("precision") + " batch " + batch + " failed: " + r.get("error"));
                continue;
            }
            out.add(new PeerResult(label, device, String.valueOf(r.get("precision")), batch, size, samples(r), Double.NaN));
        }
        return new Outcome(out, notes);
    }
}
