package io.jxception.bench;

import io.jxception.backend.Precision;
import io.jxception.model.XceptionGraph;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/** The cuBLAS peers: which GEMMs they time, how their results come back, and what they say when they cannot run. */
class GemmPeersTest {
    private static final Path SCRIPT = Path.of("benchmarks/peers/cublas_gemms.py");

    @Test
    void every299LaunchWithAPointwiseGemmHasOneWithItsShape() {
        XceptionGraph graph = BenchSuite.graph(299);
        List<PointwiseGemm> gemms = PointwiseGemm.of(graph, 2);
        // 34 separable convs (blocks 2, 3, 4, 13, 14: 2 each; middle flow 8 x 3) + 4 residual 1x1 stride-2 convs
        assertEquals(38, gemms.size());
        Map<String, PointwiseGemm> byNode = gemms.stream().collect(Collectors.toMap(PointwiseGemm::node, g -> g));
        assertEquals(new PointwiseGemm(byNode.get("block2_sepconv1").index(), "block2_sepconv1", 2L * 147 * 147, 128, 64), byNode.get("block2_sepconv1"));
        assertEquals(2L * 19 * 19, byNode.get("block7_sepconv2").m());
        assertEquals(728, byNode.get("block7_sepconv2").k());
        assertEquals(2048, byNode.get("block14_sepconv2").n());
        assertEquals(1536, byNode.get("block14_sepconv2").k());
        assertEquals(2L * 10 * 10, byNode.get("block14_sepconv2").m());
        // the residual convs: M counts the output pixels (the strided input pixels they read)
        List<PointwiseGemm> residual = gemms.stream().filter(g -> !g.node().contains("sepconv")).toList();
        assertEquals(List.of(2L * 74 * 74, 2L * 37 * 37, 2L * 19 * 19, 2L * 10 * 10), residual.stream().map(PointwiseGemm::m).toList());
        assertEquals(List.of(64, 128, 256, 728), residual.stream().map(PointwiseGemm::k).toList());
        assertEquals(List.of(128, 256, 728, 1024), residual.stream().map(PointwiseGemm::n).toList());
        // the indices are those of the per-layer rows of the same launches
        List<LayerResult> rows = LayerResult.count(graph, 2, Precision.BF16, "cuda:0", "gpu");
        for (PointwiseGemm g : gemms) {
            LayerResult row = rows.get(g.index());
            assertEquals(g.node(), row.node());
            assertTrue(row.kernel() == Kernel.SEPCONV_BN || row.kernel() == Kernel.CONV1X1S2_BN, row.kernel().toString());
        }
        assertEquals(38, rows.stream().filter(r -> r.kernel() == Kernel.SEPCONV_BN || r.kernel() == Kernel.CONV1X1S2_BN).count());
        // nearly all of the network's FLOPs: 2 x 8.36 GMACs minus the depthwise convs, stem and dense
        double share = gemms.stream().mapToLong(PointwiseGemm::flops).sum() / (2 * 16.715e9);
        assertTrue(share > 0.9 && share < 1.0, "pointwise share of FLOPs " + share);
    }

    @Test
    void layerCsvCarriesThePeerGemmTimeAndOursOverPeerRatio(@TempDir Path dir) throws Exception {
        XceptionGraph graph = BenchSuite.graph(71);
        List<LayerResult> rows = LayerResult.count(graph, 1, Precision.BF16, "cuda:0", "gpu").stream()
                .map(r -> r.timed(new Samples(3e-5, 3e-5, 3e-5, 1), null, "CUDA events")).toList();
        PointwiseGemm first = PointwiseGemm.of(graph, 1).get(0);
        GemmPeerResult g = new GemmPeerResult("cublas: test", "cuda (gpu)", "bf16", 1, first.index(), first.node(), first.m(), first.n(), first.k(),
                new Samples(1e-5, 1e-5, 1e-5, 1));
        Path csv = dir.resolve("layers.csv");
        Csv.writeLayers(csv, rows, List.of(g));
        List<List<String>> cells = Csv.read(csv);
        int ms = cells.get(0).indexOf("gemm_peer_ms"), ratio = cells.get(0).indexOf("gemm_peer_speedup"), peer = cells.get(0).indexOf("gemm_peer");
        assertTrue(ms > 0 && ratio > 0 && peer > 0, cells.get(0).toString());
        List<String> row = cells.get(1 + first.index());
        assertEquals("0.01", row.get(ms));
        assertEquals("3", row.get(ratio), "our 0.03 ms over cuBLAS's 0.01 ms");
        assertEquals("cublas: test", row.get(peer));
        assertEquals("", cells.get(1).get(ms), "the stem conv has no GEMM peer");
    }

    @Test
    void jcublasThatDoesNotLoadIsACublasUnavailableNoteNeverACrash() {
        List<PointwiseGemm> gemms = PointwiseGemm.of(BenchSuite.graph(71), 1);
        GemmPeerRunner.Outcome o = CublasPeer.run(CublasPeer.Source.JCUBLAS, 0, gemms, List.of("fp32", "bf16"), 1, 1, 2);
        if (o.results().isEmpty()) {
            assertEquals(1, o.notes().size(), o.notes().toString());
            assertTrue(o.notes().get(0).startsWith("cuBLAS unavailable: JCublas: "), o.notes().get(0));
            System.out.println(o.notes().get(0));
        } else { // a machine with a GPU and cuBLAS 12
            assertEquals(2 * gemms.size(), o.results().size());
            assertTrue(o.results().stream().allMatch(r -> r.time().median() > 0));
        }
    }

    @Test
    void javaCppCublasThatDoesNotLoadIsACublasUnavailableNoteWithItsReason() {
        List<PointwiseGemm> gemms = PointwiseGemm.of(BenchSuite.graph(71), 1);
        GemmPeerRunner.Outcome o = CublasPeer.run(CublasPeer.Source.JAVACPP, 0, gemms, List.of("fp32", "bf16"), 1, 1, 2);
        Assumptions.assumeTrue(o.results().isEmpty(), "cuBLAS 13 loaded through JavaCPP here: the GPU test covers this machine");
        assertEquals(1, o.notes().size(), o.notes().toString());
        String note = o.notes().get(0);
        assertTrue(note.startsWith("cuBLAS unavailable: JavaCPP: "), note);
        String reason = note.substring("cuBLAS unavailable: JavaCPP: ".length());
        assertTrue(reason.matches("(UnsatisfiedLinkError: .*\\.so[.0-9]*: cannot open shared object file.*)|(the JavaCPP CUDA preset .* is not on the class path)"
                + "|(IllegalStateException: cuda.*)"), reason);
    }

    @Test
    @org.junit.jupiter.api.Tag("gpu")
    void onAGpuJavaCppCublasTimesEveryGemm() {
        List<PointwiseGemm> gemms = PointwiseGemm.of(BenchSuite.graph(71), 1);
        GemmPeerRunner.Outcome o = CublasPeer.run(CublasPeer.Source.JAVACPP, 0, gemms, List.of("fp32", "tf32", "bf16"), 1, 1, 3);
        Assumptions.assumeFalse(o.results().isEmpty(), () -> "no cuBLAS 13 through JavaCPP here: " + o.notes());
        assertTrue(o.notes().isEmpty(), o.notes().toString());
        assertEquals(3 * gemms.size(), o.results().size());
        assertTrue(o.results().stream().allMatch(r -> r.time().median() > 0 && r.peer().startsWith("cublas: JavaCPP")));
    }

    @Test
    void aNativeLibraryErrorIsReportedByTheLibraryItMisses() {
        // JCuda's message, shortened: nested stack traces of both attempts to load the JNI library
        var e = new UnsatisfiedLinkError("Error while loading native library \"JCublas2-12.6.0-linux-x86_64\"\n"
                + "Stack trace from the attempt to load the library as a file:\n"
                + "java.lang.UnsatisfiedLinkError: no JCublas2-12.6.0-linux-x86_64 in java.library.path: /usr/lib\n"
                + "Stack trace from the attempt to load the library as a resource:\n"
                + "java.lang.UnsatisfiedLinkError: /tmp/libJCublas2-12.6.0-linux-x86_64.so: libcublas.so.12: cannot open shared object file: No such file or directory\n"
                + "\tat java.base/jdk.internal.loader.NativeLibraries.load(Native Method)\n");
        assertEquals("UnsatisfiedLinkError: libcublas.so.12: cannot open shared object file: No such file or directory", CublasPeer.reason(e));
        assertEquals("IllegalStateException: no handle", CublasPeer.reason(new RuntimeException(new IllegalStateException("no handle\nmore"))));
    }

    @Test
    void aMissingScriptIsACublasUnavailableNote(@TempDir Path dir) {
        var options = new BenchOptions.PeerOptions(true, null, null, 1, 0, dir.resolve("missing.py"));
        GemmPeerRunner.Outcome o = GemmPeerRunner.run(options, "cuda", PointwiseGemm.of(BenchSuite.graph(71), 1), List.of("fp32"), 1, 0, 1, 10);
        assertTrue(o.results().isEmpty());
        assertTrue(o.notes().get(0).startsWith("cuBLAS unavailable: torch.mm: no script at "), o.notes().get(0));
    }

    @Test
    void theTorchScriptTimesEveryGemmOnTheCpu() {
        // Runs where python3 (or Debian's /usr/bin/python3) has torch; on the GPU machine the suite runs it with --device cuda.
        List<PointwiseGemm> gemms = PointwiseGemm.of(BenchSuite.graph(71), 1);
        var options = new BenchOptions.PeerOptions(true, null, null, 1, 0, SCRIPT);
        GemmPeerRunner.Outcome o = GemmPeerRunner.run(options, "cpu", gemms, List.of("fp32", "bf16"), 1, 0, 2, 300);
        Assumptions.assumeTrue(o.notes().isEmpty() || !o.notes().get(0).contains("torch not found"), "no python with torch here: " + o.notes());
        assertEquals(List.of(), o.notes());
        assertEquals(2 * gemms.size(), o.results().size());
        for (int i = 0; i < gemms.size(); i++) {
            GemmPeerResult r = o.results().get(i);
            assertEquals(gemms.get(i).index(), r.index());
            assertEquals(gemms.get(i).m(), r.m());
            assertEquals("fp32", r.precision());
            assertEquals(2, r.time().count());
            assertTrue(r.time().median() > 0 && r.peer().startsWith("cublas: torch "), r.toString());
        }
        assertEquals("bf16", o.results().get(gemms.size()).precision());
    }

    @Test
    void aPeerKilledAtItsBudgetKeepsTheRowsItFinished(@TempDir Path dir) throws Exception {
        // a stand-in interpreter: one complete JSON line, then it hangs the way a slow torch.compile does
        Path fake = dir.resolve("slow-python");
        Files.writeString(fake, "#!/bin/sh\necho '{\"peer\":\"pytorch\",\"torch\":\"2.11\",\"device\":\"cuda\",\"device_name\":\"H100\",\"threads\":1,"
                + "\"size\":71,\"parameters\":22910480,\"results\":[{\"mode\":\"compile\",\"precision\":\"bf16\",\"batch\":1,\"median_ms\":2,"
                + "\"min_ms\":2,\"max_ms\":2,\"samples\":3,\"images_per_second\":500}]}'\nexec sleep 60\n");
        assertTrue(fake.toFile().setExecutable(true));
        Path script = Files.writeString(dir.resolve("peer.py"), "# stand-in");
        var options = new BenchOptions.PeerOptions(true, fake.toString(), script, 1, 2, null);
        long t0 = System.nanoTime();
        PeerRunner.Outcome o = PeerRunner.run(options, "cuda", "compile", List.of("bf16"), List.of(1, 32), 71, 1, 3, 2, 22_910_480L);
        assertTrue((System.nanoTime() - t0) / 1e9 < 20, "killed at its 2 s budget");
        assertEquals(1, o.results().size());
        assertEquals("pytorch 2.11 keras-port compile channels_last", o.results().get(0).peer());
        assertTrue(o.notes().get(0).contains("stopped at its budget of 2 s"), o.notes().toString());
    }
}
