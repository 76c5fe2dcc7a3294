package io.jxception.bench;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Which cuBLAS sources time the pointwise GEMMs of each batch, over a whole suite run:
 * <ol>
 * <li>torch.mm (benchmarks/peers/cublas_gemms.py, {@link GemmPeerRunner}): the machine's PyTorch cuBLAS;</li>
 * <li>JCublas 12.6.0 in-process ({@link CublasPeer.Source#JCUBLAS});</li>
 * <li>the JavaCPP CUDA 13 preset in-process ({@link CublasPeer.Source#JAVACPP}), only once JCublas is
 *     found unavailable: the two are bindings of one library in this process, one is enough, and on
 *     the CUDA 13 GPU machines JCublas never loads, so JavaCPP is the in-process cuBLAS there.</li>
 * </ol>
 * A source whose outcome says "cuBLAS unavailable" is not tried again. A layer row's peer is the
 * first recorded ({@link GemmPeerResult#of}): torch.mm where it ran, else the in-process one.
 */
final class CublasSources {
    /** The torch.mm source for one batch (the script runner, or a fake in tests). */
    interface TorchMm {
        GemmPeerRunner.Outcome run(List<PointwiseGemm> gemms, List<String> precisions, int batch, int warmup, int iterations);
    }

    /** The script source's name in progress lines. */
    private static final String TORCH = "torch.mm";

    private final TorchMm torch;
    private final CublasPeer.Opener opener;
    private final Set<CublasPeer.Source> unavailable = EnumSet.noneOf(CublasPeer.Source.class);
    private boolean torchUnavailable;

    CublasSources(TorchMm torch, CublasPeer.Opener opener) {
        this.torch = torch;
        this.opener = opener;
    }

    /**
     * Every source still worth trying on this batch's GEMMs, in order; results and notes together.
     *
     * @param progress told the name of each source as it starts
     */
    GemmPeerRunner.Outcome run(int device, List<PointwiseGemm> gemms, List<String> precisions, int batch, int warmup, int iterations,
                               Consumer<String> progress) {
        List<GemmPeerResult> results = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        if (!torchUnavailable) {
            progress.accept(TORCH);
            GemmPeerRunner.Outcome o = torch.run(gemms, precisions, batch, warmup, iterations);
            torchUnavailable = saysUnavailable(o);
            results.addAll(o.results());
            notes.addAll(o.notes());
        }
        for (CublasPeer.Source s : CublasPeer.Source.values()) {
            if (unavailable.contains(s)) continue;
            if (s == CublasPeer.Source.JAVACPP && !unavailable.contains(CublasPeer.Source.JCUBLAS)) continue;
            progress.accept(s.label);
            GemmPeerRunner.Outcome o = CublasPeer.run(opener, s, device, gemms, precisions, batch, warmup, iterations);
            if (saysUnavailable(o)) unavailable.add(s);
            results.addAll(o.results());
            notes.addAll(o.notes());
        }
        return new GemmPeerRunner.Outcome(results, notes);
    }

    private static boolean saysUnavailable(GemmPeerRunner.Outcome o) {
        return o.notes().stream().anyMatch(n -> n.startsWith(CublasPeer.UNAVAILABLE));
    }
}
