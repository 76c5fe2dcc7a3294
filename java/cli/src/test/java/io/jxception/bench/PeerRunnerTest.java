package io.jxception.bench;

import io.jxception.internal.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class PeerRunnerTest {
    private static final Path SCRIPT = Path.of("benchmarks/peers/pytorch_xception.py");

    @Test
    void aMissingScriptOrInterpreterIsAPeerUnavailableNoteNotAnError(@TempDir Path dir) {
        var noScript = new BenchOptions.PeerOptions(true, null, dir.resolve("missing.py"), 2, 0, null);
        PeerRunner.Outcome o = PeerRunner.run(noScript, "cpu", "eager", List.of("fp32"), List.of(1), 71, 0, 1, 0, 22_910_480L);
        assertTrue(o.results().isEmpty());
        assertTrue(o.notes().get(0).startsWith("peer unavailable: pytorch cpu: no script"), o.notes().get(0));

        var noPython = new BenchOptions.PeerOptions(true, dir.resolve("no-such-python").toString(), SCRIPT, 2, 0, null);
        o = PeerRunner.run(noPython, "cpu", "eager", List.of("fp32"), List.of(1), 71, 0, 1, 0, 22_910_480L);
        assertTrue(o.results().isEmpty());
        assertTrue(o.notes().get(0).contains("cannot start"), o.notes().get(0));
    }

    @Test
    void thePyTorchScriptBuildsKerasXceptionAndTimesIt() {
        // Runs where python3 (or Debian's /usr/bin/python3) has torch; elsewhere the outcome is the note.
        var options = new BenchOptions.PeerOptions(true, null, SCRIPT, 2, 0, null);
        PeerRunner.Outcome o = PeerRunner.run(options, "cpu", "eager", List.of("fp32"), List.of(1, 2), 71, 0, 2, 0, BenchSuite.graph(71).parameterCount());
        org.junit.jupiter.api.Assumptions.assumeTrue(o.notes().isEmpty() || !o.notes().get(0).contains("torch not found"),
                "no python with torch here: " + o.notes());
        assertEquals(List.of(), o.notes(), "the script's network has Keras' parameter count and every batch ran");
        assertEquals(2, o.results().size());
        for (PeerResult r : o.results()) {
            assertEquals(71, r.size());
            assertEquals(2, r.forward().count());
            assertTrue(r.imagesPerSecond() > 0 && r.forward().min() <= r.forward().median(), r.toString());
            assertTrue(r.peer().startsWith("pytorch ") && r.peer().contains(" keras-port eager channels_last"), r.peer());
            assertEquals(PeerResult.KERAS_PORT, r.model());
            assertEquals("eager", r.mode());
            assertTrue(r.firstCallSeconds() > 0, "the first call is timed too");
        }
    }

    @Test
    void theCompilePeerGetsOnlyWhatIsLeftOfTheRunsTimeBudget() {
        java.time.Instant now = java.time.Instant.parse("2026-11-27T01:00:00Z");
        var unbounded = new BenchOptions.PeerOptions(true, null, SCRIPT, 1, 120, null);
        assertEquals(120, unbounded.compileBudgetSeconds(now));
        var bounded = new BenchOptions.PeerOptions(true, null, SCRIPT, 1, 120, null, now.plusSeconds(45));
        assertEquals(45, bounded.compileBudgetSeconds(now));
        assertEquals(0, bounded.compileBudgetSeconds(now.plusSeconds(60)), "past the deadline");
        assertEquals(120, bounded.compileBudgetSeconds(now.minusSeconds(600)), "never more than --compile-seconds");
    }

    @Test
    void aPeerWithAnotherParameterCountIsNotTheSameNetwork() {
        List<String> notes = new ArrayList<>();
        var json = Json.parseObject("{\"peer\":\"pytorch\",\"torch\":\"1.13\",\"device\":\"cpu\",\"device_name\":\"x\",\"threads\":2,"
                + "\"size\":71,\"parameters\":1000,\"results\":[]}");
        PeerRunner.Outcome o = PeerRunner.parse(json, 22_910_480L, notes);
        assertTrue(o.results().isEmpty());
        assertTrue(notes.get(0).contains("not the same architecture"), notes.get(0));
    }

    @Test
    void peerResultsCarryMedianAndFailuresBecomeNotes() {
        List<String> notes = new ArrayList<>();
        var json = Json.parseObject("{\"peer\":\"pytorch\",\"torch\":\"1.13.1\",\"device\":\"cuda\",\"device_name\":\"H100\",\"threads\":1,"
                + "\"size\":299,\"parameters\":22910480,\"results\":["
                + "{\"mode\":\"eager\",\"precision\":\"bf16\",\"batch\":256,\"median_ms\":40,\"min_ms\":39,\"max_ms\":45,\"samples\":10,\"images_per_second\":6400},"
                + "{\"mode\":\"compile\",\"precision\":\"bf16\",\"batch\":256,\"error\":\"out of memory\"}]}");
        PeerRunner.Outcome o = PeerRunner.parse(json, 22_910_480L, notes);
        assertEquals(1, o.results().size());
        PeerResult r = o.results().get(0);
        assertEquals(6400, r.imagesPerSecond(), 1e-9);
        assertEquals("pytorch 1.13.1 keras-port eager channels_last", r.peer(), "a script before 2026-12 names no model: the Keras port");
        assertEquals(PeerResult.KERAS_PORT, r.model());
        assertEquals("cuda (H100)", r.device());
        assertTrue(Double.isNaN(r.firstCallSeconds()));
        assertTrue(notes.get(0).contains("out of memory"));
    }

    @Test
    void timmRowsAreLabelledByModelModeAndVersionAndCarryTheirCompileTime() {
        List<String> notes = new ArrayList<>();
        var json = Json.parseObject("{\"peer\":\"pytorch\",\"model\":\"timm legacy_xception\",\"timm\":\"1.0.20\",\"torch\":\"2.11.0+cu130\","
                + "\"device\":\"cuda\",\"device_name\":\"NVIDIA H200\",\"threads\":16,\"size\":299,\"parameters\":22910480,\"results\":["
                + "{\"mode\":\"eager\",\"precision\":\"bf16\",\"batch\":256,\"median_ms\":38.3,\"min_ms\":38,\"max_ms\":39,\"samples\":10,"
                + "\"images_per_second\":6690,\"first_call_s\":2.5},"
                + "{\"mode\":\"compile:max-autotune-no-cudagraphs\",\"precision\":\"bf16\",\"batch\":256,\"median_ms\":30,\"min_ms\":29.5,"
                + "\"max_ms\":31,\"samples\":10,\"images_per_second\":8533,\"first_call_s\":187.25}]}");
        PeerRunner.Outcome o = PeerRunner.parse(json, 22_910_480L, notes);
        assertEquals(List.of(), notes);
        assertFalse(o.unavailable());
        PeerResult eager = o.results().get(0), tuned = o.results().get(1);
        assertEquals("pytorch 2.11.0+cu130 timm 1.0.20 legacy_xception eager channels_last", eager.peer());
        assertEquals(PeerResult.TIMM, eager.model());
        assertEquals("cuda (NVIDIA H200)", eager.device());
        assertEquals("NVIDIA H200", eager.deviceName());
        assertFalse(eager.compiled());
        assertEquals("pytorch 2.11.0+cu130 timm 1.0.20 legacy_xception compile max-autotune-no-cudagraphs channels_last", tuned.peer());
        assertEquals("compile max-autotune-no-cudagraphs", tuned.mode());
        assertTrue(tuned.compiled());
        assertEquals(187.25, tuned.firstCallSeconds(), 1e-12);
        assertEquals("timm legacy_xception compile max-autotune-no-cudagraphs bf16", tuned.configuration());
    }

    @Test
    void timmWithAnotherParameterCountKeepsItsRowsAndSaysSo() {
        List<String> notes = new ArrayList<>();
        var json = Json.parseObject("{\"peer\":\"pytorch\",\"model\":\"timm legacy_xception\",\"torch\":\"2.11\",\"device\":\"cuda\","
                + "\"device_name\":\"H200\",\"threads\":1,\"size\":299,\"parameters\":22855952,\"results\":[{\"mode\":\"eager\","
                + "\"precision\":\"fp32\",\"batch\":1,\"median_ms\":5,\"min_ms\":5,\"max_ms\":5,\"samples\":3,\"images_per_second\":200}]}");
        PeerRunner.Outcome o = PeerRunner.parse(json, 22_910_480L, notes);
        assertEquals(1, o.results().size(), "the model people run is the comparison, whatever its count");
        assertEquals(1, notes.size());
        assertTrue(notes.get(0).startsWith("peer timm legacy_xception has 22855952 parameters counted the Keras way"), notes.get(0));
    }

    @Test
    void withoutTimmTheTimmPeerIsOneUnavailableLine() {
        // where python3 has torch and timm (the GPU machines) this times the model; here it says what is missing
        var options = new BenchOptions.PeerOptions(true, null, SCRIPT, 1, 0, null);
        PeerRunner.Outcome o = PeerRunner.run(options, "cpu", "timm", "eager", List.of("fp32"), List.of(1), 71, 0, 1, 0, 22_910_480L);
        org.junit.jupiter.api.Assumptions.assumeTrue(o.results().isEmpty(), "timm is installed here: " + o.results());
        assertTrue(o.unavailable());
        assertEquals(1, o.notes().size(), o.notes().toString());
        String n = o.notes().get(0);
        assertTrue(n.startsWith("peer unavailable: pytorch cpu timm: "), n);
        assertTrue(n.contains("timm not installed for ") || n.contains("python module torch not found"), n);
        assertFalse(n.contains("\n"), "one line");
    }
}
