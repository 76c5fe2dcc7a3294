package io.jxception.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** The torch.compile phase: job order, budget shares, and a slow or missing peer that costs no other row. */
class CompilePlanTest {
    private static final long PARAMETERS = 22_910_480L;
    private static final String DEFAULT = "compile", AUTOTUNE = "compile:max-autotune-no-cudagraphs";

    @Test
    void jobsRunPrecisionByPrecisionDefaultBeforeMaxAutotuneModelsInTheOrderAsked() {
        List<CompilePlan.Job> jobs = CompilePlan.jobs(List.of("bf16", "fp32"), List.of(DEFAULT, AUTOTUNE), List.of("timm", "keras"));
        assertEquals(List.of(new CompilePlan.Job("timm", DEFAULT, "bf16"), new CompilePlan.Job("keras", DEFAULT, "bf16"),
                new CompilePlan.Job("timm", AUTOTUNE, "bf16"), new CompilePlan.Job("keras", AUTOTUNE, "bf16"),
                new CompilePlan.Job("timm", DEFAULT, "fp32"), new CompilePlan.Job("keras", DEFAULT, "fp32"),
                new CompilePlan.Job("timm", AUTOTUNE, "fp32"), new CompilePlan.Job("keras", AUTOTUNE, "fp32")), jobs);
        assertEquals("pytorch cuda timm compile max-autotune-no-cudagraphs bf16", jobs.get(2).toString());
        assertEquals("pytorch cuda compile bf16", jobs.get(1).toString(), "the Keras port is the peer's default model");
    }

    @Test
    void eachJobGetsItsWeightedShareOfWhatIsLeftMaxAutotuneTwice() {
        List<CompilePlan.Job> jobs = CompilePlan.jobs(List.of("bf16"), List.of(DEFAULT, AUTOTUNE), List.of("timm", "keras"));
        assertEquals(40, CompilePlan.budget(jobs, 240, 20), "240 s over weights 1 + 1 + 2 + 2");
        assertEquals(50, CompilePlan.budget(jobs.subList(1, 4), 250, 20), "a job that finished early left its time: 250 over 1 + 2 + 2");
        assertEquals(100, CompilePlan.budget(jobs.subList(2, 4), 200, 20));
        assertEquals(200, CompilePlan.budget(jobs.subList(3, 4), 200, 20), "the last job gets all that is left");
        assertEquals(20, CompilePlan.budget(jobs, 60, 20), "never under the minimum while that much is left");
        assertEquals(19, CompilePlan.budget(jobs.subList(3, 4), 19, 1));
        assertEquals(0, CompilePlan.budget(jobs, 19, 20), "under the minimum: not started");
        assertEquals(0, CompilePlan.budget(List.of(), 100, 20));
    }

    @Test
    void aJobKilledAtItsBudgetKeepsItsRowsAndTheNextJobsStillRun(@TempDir Path dir) throws Exception {
        // timm compile: one batch, then hangs compiling the next; keras compile: both batches; max-autotune: never finishes
        Path calls = dir.resolve("calls.log");
        Path python = fakePython(dir, calls, """
                case "$model/$mode" in
                  timm/compile) row timm 256 compile 41.5; echo "pytorch cuda timm legacy_xception compile bf16 batch 32 (compiling)" >&2; exec sleep 60 ;;
                  keras/compile) row keras 256 compile 30.25; row2 keras compile; exit 0 ;;
                  *) echo "pytorch cuda $model $mode bf16 batch 256 (compiling)" >&2; exec sleep 60 ;;
                esac
                """);
        var options = new BenchOptions.PeerOptions(true, python.toString(), Files.writeString(dir.resolve("peer.py"), "# stand-in"), 1, 8, null);
        List<CompilePlan.Job> jobs = CompilePlan.jobs(List.of("bf16"), List.of(DEFAULT, AUTOTUNE), List.of("timm", "keras"));
        Set<String> unavailable = new LinkedHashSet<>();
        List<String> progress = new ArrayList<>();
        long t0 = System.nanoTime();
        CompilePlan.Outcome o = CompilePlan.run(options, jobs, List.of(256, 32), 71, 1, 3, PARAMETERS, Instant.now().plusSeconds(8), 1,
                unavailable, progress::add);
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(seconds < 20, "the phase ends near its 8 s deadline, not when the children would: " + seconds + " s");

        assertEquals(3, o.results().size(), o.toString());
        PeerResult timm = o.results().get(0);
        assertEquals(PeerResult.TIMM, timm.model());
        assertEquals("compile", timm.mode());
        assertEquals(256, timm.batch());
        assertEquals(41.5, timm.firstCallSeconds(), 1e-12, "compile time comes back with the row");
        assertEquals("pytorch 2.11.0+cu130 timm 1.0.20 legacy_xception compile channels_last", timm.peer());
        assertEquals(List.of(256, 32), o.results().subList(1, 3).stream().map(PeerResult::batch).toList());
        assertTrue(o.results().subList(1, 3).stream().allMatch(r -> r.model().equals(PeerResult.KERAS_PORT)), o.toString());

        assertEquals(3, o.notes().size(), o.notes().toString());
        assertTrue(o.notes().get(0).matches("peer pytorch cuda timm compile: stopped at its budget of 1 s while at 'pytorch cuda timm legacy_xception"
                + " compile bf16 batch 32 \\(compiling\\)'; the rows it finished are kept \\(1 of 2\\)"), o.notes().get(0));
        assertTrue(o.notes().get(1).startsWith("peer pytorch cuda timm compile max-autotune-no-cudagraphs: finished nothing within its budget of "),
                o.notes().get(1));
        assertTrue(o.notes().get(2).startsWith("peer pytorch cuda compile max-autotune-no-cudagraphs: finished nothing within its budget of "),
                o.notes().get(2));
        assertTrue(unavailable.isEmpty(), "a budget that ran out says nothing about whether the peer runs here");
        assertEquals(4, Files.readAllLines(calls).size(), "every job started");
        assertEquals(4, progress.size());
    }

    @Test
    void aModelThatCannotRunIsTriedOnceAndTheOthersGetItsTime(@TempDir Path dir) throws Exception {
        Path calls = dir.resolve("calls.log");
        Path python = fakePython(dir, calls, """
                case "$model" in
                  timm) echo '{"unavailable": "timm not installed for fake-python (No module named timm)"}'; exit 3 ;;
                  *) row keras 256 "$mode" 12.0; exit 0 ;;
                esac
                """);
        var options = new BenchOptions.PeerOptions(true, python.toString(), Files.writeString(dir.resolve("peer.py"), "# stand-in"), 1, 30, null);
        List<CompilePlan.Job> jobs = CompilePlan.jobs(List.of("bf16"), List.of(DEFAULT, AUTOTUNE), List.of("timm", "keras"));
        Set<String> unavailable = new LinkedHashSet<>();
        CompilePlan.Outcome o = CompilePlan.run(options, jobs, List.of(256), 71, 1, 3, PARAMETERS, Instant.now().plusSeconds(30), 1,
                unavailable, s -> {});
        assertEquals(List.of("peer unavailable: pytorch cuda timm compile: timm not installed for fake-python (No module named timm)"), o.notes());
        assertEquals(Set.of("timm"), unavailable);
        assertEquals(List.of("compile", "compile max-autotune-no-cudagraphs"), o.results().stream().map(PeerResult::mode).toList());
        List<String> lines = Files.readAllLines(calls);
        assertEquals(List.of("timm/compile", "keras/compile", "keras/compile:max-autotune-no-cudagraphs"), lines, "timm is not tried again");
    }

    @Test
    void lessThanAFirstCompileLeftStartsNothingAndSaysSo(@TempDir Path dir) throws Exception {
        Path calls = dir.resolve("calls.log");
        Path python = fakePython(dir, calls, "exit 0\n");
        var options = new BenchOptions.PeerOptions(true, python.toString(), Files.writeString(dir.resolve("peer.py"), "# stand-in"), 1, 5, null);
        List<CompilePlan.Job> jobs = CompilePlan.jobs(List.of("bf16"), List.of(DEFAULT), List.of("timm", "keras"));
        CompilePlan.Outcome o = CompilePlan.run(options, jobs, List.of(256), 71, 1, 3, PARAMETERS, Instant.now().plusSeconds(5), 20,
                new LinkedHashSet<>(), s -> {});
        assertTrue(o.results().isEmpty());
        assertEquals(1, o.notes().size());
        assertTrue(o.notes().get(0).startsWith("peer pytorch compile: 2 of 2 runs not started (pytorch cuda timm compile bf16; pytorch cuda compile bf16): "),
                o.notes().get(0));
        assertTrue(o.notes().get(0).endsWith("under the 20 s a first compile needs"), o.notes().get(0));
        assertFalse(Files.exists(calls));
    }

    /**
     * A stand-in interpreter for pytorch_xception.py: parses --model and --modes, logs "model/mode"
     * to {@code calls}, and runs {@code body} with two helpers: {@code row MODEL BATCH MODE FIRST_CALL}
     * prints a JSON line with one result, {@code row2 MODEL MODE} one with batches 256 and 32.
     */
    static Path fakePython(Path dir, Path calls, String body) throws Exception {
        String head = "{\"peer\":\"pytorch\",\"model\":\"%s\",\"timm\":\"1.0.20\",\"torch\":\"2.11.0+cu130\",\"device\":\"cuda\","
                + "\"device_name\":\"NVIDIA H200\",\"threads\":1,\"size\":71,\"parameters\":" + PARAMETERS + ",\"results\":[%s]}\\n";
        String result = "{\"mode\":\"%s\",\"precision\":\"bf16\",\"batch\":%s,\"median_ms\":2,\"min_ms\":2,\"max_ms\":2,\"samples\":3,"
                + "\"images_per_second\":100,\"first_call_s\":%s}";
        String script = "#!/bin/bash\nmodel=\"\"; mode=\"\"\n"
                + "while [ $# -gt 0 ]; do case \"$1\" in --model) model=\"$2\"; shift ;; --modes) mode=\"$2\"; shift ;; esac; shift; done\n"
                + "echo \"$model/$mode\" >> '" + calls + "'\n"
                + "label() { if [ \"$1\" = timm ]; then echo 'timm legacy_xception'; else echo keras-port; fi; }\n"
                + "row() { printf '" + head.formatted("%s", result.formatted("%s", "%s", "%s")) + "' \"$(label $1)\" \"$3\" \"$2\" \"$4\"; }\n"
                + "row2() { printf '" + head.formatted("%s", result.formatted("%s", "256", "1") + "," + result.formatted("%s", "32", "1"))
                + "' \"$(label $1)\" \"$2\" \"$2\"; }\n"
                + body;
        Path fake = dir.resolve("fake-python");
        Files.writeString(fake, script);
        assertTrue(fake.toFile().setExecutable(true));
        return fake;
    }
}
