package io.jxception.bench;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Which cuBLAS sources the suite records, batch after batch, with fake sources standing in for torch.mm, JCublas and JavaCPP. */
class CublasSourcesTest {
    private static final List<PointwiseGemm> GEMMS = PointwiseGemm.of(BenchSuite.graph(71), 1);

    /** Each source's label in its rows' peer, and which sources ran, in order. */
    private final List<String> calls = new ArrayList<>();

    private CublasSources.TorchMm torch(boolean available) {
        return (gemms, precisions, batch, warmup, iterations) -> {
            calls.add("torch.mm");
            if (!available) return new GemmPeerRunner.Outcome(List.of(), List.of("cuBLAS unavailable: torch.mm: python module torch not found"));
            return new GemmPeerRunner.Outcome(rows("cublas: torch.mm", gemms, precisions, batch), List.of());
        };
    }

    private CublasPeer.Opener opener(Set<CublasPeer.Source> available) {
        return (source, device) -> {
            calls.add(source.label);
            if (!available.contains(source)) throw new CublasPeer.UnavailableException("UnsatisfiedLinkError: lib" + source.label + ".so: cannot open");
            return new CublasPeer.Timer() {
                public String library() { return source.label; }
                public String device() { return "cuda:0 (Fake GPU)"; }
                public List<GemmPeerResult> time(List<PointwiseGemm> gemms, String precision, int batch, int warmup, int iterations, List<String> notes) {
                    return rows("cublas: " + source.label, gemms, List.of(precision), batch);
                }
                public void close() {}
            };
        };
    }

    private static List<GemmPeerResult> rows(String peer, List<PointwiseGemm> gemms, List<String> precisions, int batch) {
        List<GemmPeerResult> out = new ArrayList<>();
        for (String p : precisions) {
            for (PointwiseGemm g : gemms) out.add(new GemmPeerResult(peer, "cuda:0 (Fake GPU)", p, batch, g.index(), g.node(), g.m(), g.n(), g.k(), new Samples(1e-5, 1e-5, 1e-5, 2)));
        }
        return out;
    }

    private static List<String> peers(GemmPeerRunner.Outcome o) {
        return o.results().stream().map(GemmPeerResult::peer).distinct().toList();
    }

    @Test
    void javaCppIsRecordedOnlyWhenTheOthersAreUnavailableAndThenIsTheRowsPeer() {
        CublasSources sources = new CublasSources(torch(false), opener(EnumSet.of(CublasPeer.Source.JAVACPP)));
        GemmPeerRunner.Outcome o = sources.run(0, GEMMS, List.of("fp32", "bf16"), 1, 1, 2, s -> {});
        assertEquals(List.of("torch.mm", "JCublas", "JavaCPP"), calls);
        assertEquals(List.of("cublas: JavaCPP"), peers(o));
        assertEquals(2 * GEMMS.size(), o.results().size());
        assertEquals(List.of("cuBLAS unavailable: torch.mm: python module torch not found", "cuBLAS unavailable: JCublas: UnsatisfiedLinkError: libJCublas.so: cannot open"),
                o.notes());
        // a source found unavailable is not tried again: the next batch goes straight to JavaCPP
        calls.clear();
        GemmPeerRunner.Outcome next = sources.run(0, GEMMS, List.of("fp32"), 32, 1, 2, s -> {});
        assertEquals(List.of("JavaCPP"), calls);
        assertTrue(next.notes().isEmpty(), next.notes().toString());
        assertTrue(next.results().stream().allMatch(r -> r.batch() == 32));
    }

    @Test
    void whereJCublasLoadsJavaCppIsNeverOpened() {
        CublasSources sources = new CublasSources(torch(false), opener(EnumSet.allOf(CublasPeer.Source.class)));
        GemmPeerRunner.Outcome o = sources.run(0, GEMMS, List.of("fp32"), 1, 1, 2, s -> {});
        sources.run(0, GEMMS, List.of("fp32"), 8, 1, 2, s -> {});
        assertEquals(List.of("torch.mm", "JCublas", "JCublas"), calls);
        assertEquals(List.of("cublas: JCublas"), peers(o));
    }

    @Test
    void besideTorchMmJavaCppRunsInProcessButTorchStaysTheLayersPeer() {
        // the GPU machines: torch.mm works, JCublas never loads (no libcublas.so.12), JavaCPP finds cuBLAS 13 in torch's wheels
        CublasSources sources = new CublasSources(torch(true), opener(EnumSet.of(CublasPeer.Source.JAVACPP)));
        List<String> progress = new ArrayList<>();
        GemmPeerRunner.Outcome o = sources.run(0, GEMMS, List.of("bf16"), 1, 1, 2, progress::add);
        assertEquals(List.of("torch.mm", "JCublas", "JavaCPP"), progress);
        assertEquals(List.of("cublas: torch.mm", "cublas: JavaCPP"), peers(o));
        LayerResult row = LayerResult.count(BenchSuite.graph(71), 1, io.jxception.backend.Precision.BF16, "cuda:0", "gpu").get(GEMMS.get(0).index());
        assertEquals("cublas: torch.mm", GemmPeerResult.of(o.results(), row).orElseThrow().peer(), "the first recorded is the row's peer");
    }

    @Test
    void whenEverySourceIsUnavailableThereIsOneNoteEachAndNoRetry() {
        CublasSources sources = new CublasSources(torch(false), opener(EnumSet.noneOf(CublasPeer.Source.class)));
        GemmPeerRunner.Outcome o = sources.run(0, GEMMS, List.of("fp32"), 1, 1, 2, s -> {});
        assertTrue(o.results().isEmpty());
        assertEquals(3, o.notes().size(), o.notes().toString());
        assertTrue(o.notes().get(2).startsWith("cuBLAS unavailable: JavaCPP: "), o.notes().get(2));
        calls.clear();
        GemmPeerRunner.Outcome next = sources.run(0, GEMMS, List.of("fp32"), 2, 1, 2, s -> {});
        assertEquals(List.of(), calls);
        assertTrue(next.notes().isEmpty() && next.results().isEmpty());
    }

    @Test
    void eachDistinctShapeIsTimedOnceAndEveryGemmGetsItsRowInOrder() throws Exception {
        CublasPeer.Timer timer = opener(EnumSet.allOf(CublasPeer.Source.class)).open(CublasPeer.Source.JAVACPP, 0);
        List<String> timedShapes = new ArrayList<>();
        List<GemmPeerResult> rows = CublasPeer.timeEachShape(timer, GEMMS, "bf16", 2, g -> {
            timedShapes.add(g.m() + " " + g.n() + " " + g.k());
            return new Samples(g.k() * 1e-6, g.k() * 1e-6, g.k() * 1e-6, 3);
        });
        long distinct = GEMMS.stream().map(g -> g.m() + " " + g.n() + " " + g.k()).distinct().count();
        assertTrue(distinct < GEMMS.size(), "the middle flow repeats one shape");
        assertEquals(distinct, timedShapes.size());
        assertEquals(distinct, timedShapes.stream().distinct().count());
        assertEquals(GEMMS.size(), rows.size());
        for (int i = 0; i < GEMMS.size(); i++) {
            GemmPeerResult r = rows.get(i);
            assertEquals(GEMMS.get(i).index(), r.index());
            assertEquals("cublas: JavaCPP", r.peer());
            assertEquals(GEMMS.get(i).k() * 1e-6, r.time().median(), 0);
        }
    }
}
