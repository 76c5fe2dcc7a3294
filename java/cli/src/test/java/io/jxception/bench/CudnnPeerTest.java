package io.jxception.bench;

import io.jxception.model.XceptionGraph;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The JVM cuDNN per-layer peer: what it records, what it says where it cannot run, and (on a GPU) that it runs. */
class CudnnPeerTest {
    private static final XceptionGraph SMALL = BenchSuite.graph(71);

    /** A timer that records which plans it timed; "fail" in a node's name makes it throw like a refused cuDNN call. */
    private static class FakeTimer implements CudnnPeer.Timer {
        final List<String> timed = new ArrayList<>();
        boolean closed;

        public String library() { return "fake cuDNN"; }
        public String device() { return "cuda:0 (Fake GPU)"; }
        public Samples time(CudnnPlan plan, String precision, int warmup, int iterations) {
            timed.add(precision + " " + plan.node());
            if (plan.node().contains("fail")) throw new IllegalStateException("cudnnConvolutionForward failed: CUDNN_STATUS_NOT_SUPPORTED (9)");
            return new Samples(1e-5 * (plan.index() + 1), 1e-5, 1e-5, iterations);
        }
        public void close() { closed = true; }
    }

    @Test
    void whereItCannotLoadItIsOneUnavailableNoteWithTheReasonNeverAnException() {
        LayerPeerRunner.Outcome o = CudnnPeer.run(0, SMALL, 1, List.of("fp32", "bf16"), 1, 2, 0);
        Assumptions.assumeTrue(o.results().isEmpty(), "cuDNN 9 loaded here: the GPU test covers this machine");
        assertTrue(o.unavailable());
        assertEquals(1, o.notes().size(), o.notes().toString());
        String note = o.notes().get(0);
        assertTrue(note.startsWith("cuDNN per layer (JVM) unavailable: "), note);
        String reason = note.substring("cuDNN per layer (JVM) unavailable: ".length());
        // here: no libcuda.so.1 (no driver), or no jar, or no device: the reason names which
        assertTrue(reason.matches("(UnsatisfiedLinkError: .*\\.so[.0-9]*: cannot open shared object file.*)|(the JavaCPP CUDA preset .* is not on the class path)"
                + "|(IllegalStateException: cuda.*)"), reason);
        // the second try says the same, though the class that failed to initialize would not
        assertEquals(o.notes(), CudnnPeer.run(0, SMALL, 1, List.of("fp32"), 1, 2, 0).notes());
    }

    @Test
    void rowsAreLabelledCudnn9JvmAndTheMiddleFlowIsTimedOncePerPrecision() {
        FakeTimer timer = new FakeTimer();
        List<CudnnPlan> plans = CudnnPlan.of(SMALL, 2);
        LayerPeerRunner.Outcome o = CudnnPeer.run(d -> timer, 0, plans, 2, List.of("fp32", "bf16"), 1, 3, 0);
        assertFalse(o.unavailable());
        assertTrue(o.notes().isEmpty(), o.notes().toString());
        assertEquals(2 * plans.size(), o.results().size());
        long geometries = plans.stream().map(CudnnPlan::geometry).distinct().count();
        assertEquals(2 * geometries, timer.timed.size(), "one timing per geometry and precision");
        assertTrue(geometries < plans.size());
        assertTrue(timer.closed);
        LayerPeerResult block6 = o.results().stream().filter(r -> r.node().equals("block6_sepconv1") && r.precision().equals("bf16")).findFirst().orElseThrow();
        LayerPeerResult block5 = o.results().stream().filter(r -> r.node().equals("block5_sepconv1") && r.precision().equals("bf16")).findFirst().orElseThrow();
        assertEquals("cudnn9-jvm: fake cuDNN", block6.peer());
        assertEquals("Fake GPU", block6.deviceName());
        assertEquals(2, block6.batch());
        assertEquals("relu, conv 3x3 depthwise 'same', conv 1x1, batch_norm", block6.ops());
        assertSame(block5.time(), block6.time(), "block6_sepconv1 reuses block5_sepconv1's time");
    }

    @Test
    void aLaunchCudnnRefusesIsANoteAndTheOthersStillRun() {
        FakeTimer timer = new FakeTimer();
        List<CudnnPlan> plans = new ArrayList<>(CudnnPlan.of(SMALL, 1));
        CudnnPlan first = plans.get(0);
        plans.set(0, new CudnnPlan(first.index(), "fail_conv1", first.kernel(), first.geometry(), first.buffers(), first.steps()));
        LayerPeerRunner.Outcome o = CudnnPeer.run(d -> timer, 0, plans, 1, List.of("fp32"), 1, 2, 0);
        assertFalse(o.unavailable());
        assertEquals(List.of("cuDNN per layer (JVM) fp32 batch 1 fail_conv1 failed: IllegalStateException: cudnnConvolutionForward failed: "
                + "CUDNN_STATUS_NOT_SUPPORTED (9)"), o.notes());
        assertEquals(plans.size() - 1, o.results().size());
    }

    @Test
    void pastItsBudgetTheLaunchesLeftAreOneNoteAndTheFinishedRowsStay() {
        List<CudnnPlan> plans = CudnnPlan.of(SMALL, 1);
        FakeTimer slow = new FakeTimer() {
            @Override public Samples time(CudnnPlan plan, String precision, int warmup, int iterations) {
                try {
                    Thread.sleep(plan.index() == 2 ? 1100 : 0);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return super.time(plan, precision, warmup, iterations);
            }
        };
        LayerPeerRunner.Outcome o = CudnnPeer.run(d -> slow, 0, plans, 1, List.of("fp32", "bf16"), 1, 2, 1);
        assertFalse(o.unavailable());
        assertEquals(3, o.results().size(), "launches 0, 1, 2 finished; the budget ran out during launch 2");
        assertEquals(List.of("cuDNN per layer (JVM) batch 1: stopped at its budget of 1 s, " + (2 * plans.size() - 3)
                + " launches left untimed (from fp32 " + plans.get(3).node() + ")"), o.notes());
        assertTrue(slow.closed);
    }

    @Test
    void anOpenerThatFailsIsTheUnavailableNote() {
        LayerPeerRunner.Outcome o = CudnnPeer.run(d -> { throw new CublasPeer.UnavailableException("UnsatisfiedLinkError: libcudnn.so.9: cannot open"); },
                0, CudnnPlan.of(SMALL, 1), 1, List.of("fp32"), 1, 2, 0);
        assertTrue(o.unavailable());
        assertEquals(List.of("cuDNN per layer (JVM) unavailable: UnsatisfiedLinkError: libcudnn.so.9: cannot open"), o.notes());
    }

    @Test
    void theSummaryShowsTheJvmRowsBesideTorchsWithTheirOwnTotals() {
        BenchReport base = JsonReportReadTest.report();
        // torch's rows for launches 0, 3, 9 at batch 1, the same at batch 32 (the per-launch table's), then the JVM's at both, half the time
        List<LayerPeerResult> torch = new ArrayList<>(base.layerPeers());
        for (LayerPeerResult t : base.layerPeers()) torch.add(new LayerPeerResult(t.peer(), t.device(), t.precision(), 32, t.index(), t.node(), t.ops(), t.time()));
        List<LayerPeerResult> peers = new ArrayList<>(torch);
        for (LayerPeerResult t : torch) {
            peers.add(new LayerPeerResult("cudnn9-jvm: JavaCPP cuda 13.1-9.19-1.5.13, cuDNN 91900 legacy API", "cuda:0 (NVIDIA H100 80GB HBM3)", t.precision(),
                    t.batch(), t.index(), t.node(), "conv 3x3/2 'valid', batch_norm, relu", new Samples(t.time().median() / 2, 1e-6, 1e-6, 20)));
        }
        List<String> notes = new ArrayList<>(base.notes());
        notes.add("cuDNN per layer (JVM) bf16 batch 1 block2_pool failed: IllegalStateException: cudnnPoolingForward failed");
        BenchReport r = new BenchReport(base.options(), base.command(), base.machine(), base.started(), base.finished(), base.loadBefore(), base.loadAfter(),
                base.peaks(), base.throughput(), base.layers(), base.peers(), base.gemmPeers(), notes, base.peakSources(), peers);
        LayerResult first = r.layers().stream().filter(l -> l.batch() == 32 && l.index() == 0).findFirst().orElseThrow();
        assertEquals("cudnn", LayerPeerResult.of(peers, first).orElseThrow().source(), "torch's row stays the layer's peer");
        assertEquals("cudnn9-jvm", LayerPeerResult.of(peers, first, "cudnn9-jvm").orElseThrow().source());
        StringBuilder md = new StringBuilder();
        SummaryReport.layerPeerSection(md, r);
        String text = md.toString();
        assertTrue(text.contains("| cuda:0 bf16 batch 1 | cuDNN | 3 |"), text);
        assertTrue(text.contains("| cuda:0 bf16 batch 1 | cuDNN 9 (JVM) | 3 |"), text);
        assertTrue(text.contains("| cuda:0 bf16 batch 32 | cuDNN 9 (JVM) | 3 |"), text);
        assertTrue(text.contains("| cuDNN | cuDNN 9 (JVM) | cuda:0 / cuDNN | cuda:0 / cuDNN 9 (JVM) | peer ops |"), text);
        assertTrue(text.contains("- cuDNN per layer (JVM) bf16 batch 1 block2_pool failed"), text);
        // the JVM rows take half torch's time: the ratio doubles
        double ours = first.time().median(), torchMs = LayerPeerResult.of(peers, first).orElseThrow().time().median();
        String row = text.lines().filter(l -> l.startsWith("| 0 | block1_conv1 |")).findFirst().orElse("");
        assertFalse(row.isEmpty(), text);
        assertTrue(row.contains(String.format(java.util.Locale.ROOT, "%.2f×", ours / torchMs)), row);
        assertTrue(row.contains(String.format(java.util.Locale.ROOT, "%.2f×", 2 * ours / torchMs)), row);
    }

    @Test
    @Tag("gpu")
    void onAGpuWithCudnn9EveryLaunchIsTimedInEveryPrecision() {
        LayerPeerRunner.Outcome o = CudnnPeer.run(0, SMALL, 1, List.of("fp32", "tf32", "bf16", "fp16"), 1, 3, 0);
        Assumptions.assumeFalse(o.unavailable(), () -> "no cuDNN 9 through JavaCPP here: " + o.notes());
        assertTrue(o.notes().isEmpty(), o.notes().toString());
        assertEquals(4 * SMALL.nodes().size(), o.results().size());
        assertTrue(o.results().stream().allMatch(r -> r.time().median() > 0 && r.peer().startsWith("cudnn9-jvm: JavaCPP")), o.results().toString());
    }
}
