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

    /** @param unavailable the peer cannot run here (no script, interpreter, torch, timm or device; another network): not worth trying again */
    public record Outcome(List<PeerResult> results, List<String> notes, boolean unavailable) {}

    /** The Keras port ({@code model} "keras"); see {@link #run(BenchOptions.PeerOptions, String, String, String, List, List, int, int, int, long, long)}. */
    public static Outcome run(BenchOptions.PeerOptions o, String device, String mode, List<String> precisions, List<Integer> batches,
                              int size, int warmup, int iterations, long budgetSeconds, long expectedParameters) {
        return run(o, device, "keras", mode, precisions, batches, size, warmup, iterations, budgetSeconds, expectedParameters);
    }

    /**
     * @param device              "cpu" or "cuda"
     * @param model               "keras" (our Keras-exact port) or "timm" (timm's legacy_xception): the script's --model
     * @param mode                "eager", "compile" or "compile:max-autotune-no-cudagraphs": the script's --modes
     * @param precisions          peer precisions: fp32, tf32, bf16, fp16
     * @param budgetSeconds       wall time before the child is killed (results it finished are kept); 0: no limit
     * @param expectedParameters  our network's parameter count: a Keras port with another count is not the same network
     */
    public static Outcome run(BenchOptions.PeerOptions o, String device, String model, String mode, List<String> precisions,
                              List<Integer> batches, int size, int warmup, int iterations, long budgetSeconds, long expectedParameters) {
        List<String> notes = new ArrayList<>();
        String what = describe(device, model, mode);
        if (o.script() == null || !Files.isRegularFile(o.script())) {
            notes.add("peer unavailable: " + what + ": no script at " + o.script()
                    + " (run from the repository root or pass --peer-script)");
            return new Outcome(List.of(), notes, true);
        }
        ScriptAnswer answer = runScript(o, python -> {
            List<String> cmd = new ArrayList<>(List.of(python, o.script().toString(), "--device", device, "--model", model, "--modes", mode,
                    "--precision", String.join(",", precisions),
                    "--batch", batches.stream().map(String::valueOf).collect(Collectors.joining(",")),
                    "--size", String.valueOf(size), "--warmup", String.valueOf(warmup), "--iterations", String.valueOf(iterations)));
            if (device.equals("cpu") && o.cpuThreads() > 0) cmd.addAll(List.of("--threads", String.valueOf(o.cpuThreads())));
            return cmd;
        }, null, budgetSeconds);
        if (answer.json() != null) {
            Outcome parsed = parse(answer.json(), expectedParameters, notes);
            if (answer.timedOut()) {
                notes.add("peer " + what + ": stopped at its budget of " + budgetSeconds + " s" + answer.doing()
                        + "; the rows it finished are kept (" + parsed.results().size() + " of " + batches.size() * precisions.size() + ")");
            }
            return parsed;
        }
        // a run its budget cut short could run here, given time: not "unavailable"
        notes.add((answer.budgetSpent() ? "peer " : "peer unavailable: ") + what + ": " + answer.failure());
        return new Outcome(List.of(), notes, !answer.budgetSpent());
    }

    /** How notes name a peer run: "pytorch cuda timm compile max-autotune-no-cudagraphs". */
    static String describe(String device, String model, String mode) {
        return "pytorch " + device + (model.equals("keras") ? "" : " " + model) + (mode.equals("eager") ? "" : " " + mode.replace(':', ' '));
    }

    /**
     * A peer script's answer: its last JSON object and whether its budget cut it short, or (json null)
     * why there is none; {@code lastProgress} is the last line it wrote on stderr (what it was doing
     * when a budget stopped it), or "".
     */
    record ScriptAnswer(Map<String, Object> json, boolean timedOut, String failure, String lastProgress) {
        /** No answer because the budget ran out before the first result (the script could run, given time). */
        boolean budgetSpent() { return json == null && timedOut; }

        /** " while at '<last progress line>'", or "" when the script wrote none. */
        String doing() { return lastProgress.isEmpty() ? "" : " while at '" + lastProgress + "'"; }
    }

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
            String progress = r.lastStderrLine();
            if (json == null) {
                lastReason = r.timedOut() ? "finished nothing within its budget of " + budgetSeconds + " s"
                        + (progress.isEmpty() ? "" : " (it was at '" + progress + "')")
                        : python + " exited with status " + r.exitStatus() + " without JSON output"
                        + (r.stderr().isBlank() ? "" : ": " + r.stderrTail(500));
                if (r.timedOut()) return new ScriptAnswer(null, true, lastReason, progress);
                continue;
            }
            if (json.get("unavailable") != null) {
                lastReason = String.valueOf(json.get("unavailable"));
                continue;
            }
            return new ScriptAnswer(json, r.timedOut(), null, progress);
        }
        return new ScriptAnswer(null, false, lastReason, "");
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

    /**
     * The rows of a peer script's JSON. A Keras port whose parameter count is not ours is another
     * network: no rows. timm's legacy_xception is the model people run, so its rows are kept either
     * way; a count other than ours is a note (the architectures differ).
     */
    static Outcome parse(Map<String, Object> json, long expectedParameters, List<String> notes) {
        long params = json.get("parameters") instanceof Number d ? d.longValue() : -1;
        String model = json.get("model") instanceof String m ? m : PeerResult.KERAS_PORT; // before 2026-12: the Keras port only
        if (params != expectedParameters) {
            if (!model.equals(PeerResult.TIMM)) {
                notes.add("peer unavailable: its network has " + params + " parameters, ours " + expectedParameters + ": not the same architecture");
                return new Outcome(List.of(), notes, true);
            }
            notes.add("peer " + model + " has " + params + " parameters counted the Keras way (BatchNorm moving statistics included), ours "
                    + expectedParameters + ": the architectures differ; its rows are kept as timm's model");
        }
        String device = json.get("device") + " (" + json.get("device_name") + ")";
        String modelLabel = model.equals(PeerResult.TIMM) && json.get("timm") != null ? "timm " + json.get("timm") + " legacy_xception" : model;
        String name = "pytorch " + json.get("torch") + " " + modelLabel;
        int size = (int) Json.number(json.get("size"));
        String threads = json.get("threads") instanceof Number t && String.valueOf(json.get("device")).equals("cpu") ? ", " + t.intValue() + " threads" : "";
        List<PeerResult> out = new ArrayList<>();
        for (Object o : (List<?>) json.get("results")) {
            Map<?, ?> r = (Map<?, ?>) o;
            String mode = String.valueOf(r.get("mode")).replace(':', ' ');
            String label = name + " " + mode + " channels_last" + threads;
            int batch = (int) Json.number(r.get("batch"));
            if (r.get("error") != null) {
                notes.add("peer " + label + " " + r.get("precision") + " batch " + batch + " failed: " + r.get("error"));
                continue;
            }
            double firstCall = r.get("first_call_s") instanceof Number f ? f.doubleValue() : Double.NaN;
            out.add(new PeerResult(label, model, mode, device, String.valueOf(r.get("precision")), batch, size, samples(r), firstCall, Double.NaN));
        }
        return new Outcome(out, notes, false);
    }
}
