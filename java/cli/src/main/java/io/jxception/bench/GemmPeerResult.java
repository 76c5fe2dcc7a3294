package io.jxception.bench;

import java.util.List;
import java.util.Optional;

/**
 * A vendor library's time for the pointwise GEMM of one fused launch ({@link PointwiseGemm}),
 * measured in the same run on the same device: cuBLAS through torch.mm
 * (benchmarks/peers/cublas_gemms.py) or in-process through JCublas or the JavaCPP CUDA 13 preset ({@link CublasPeer}).
 *
 * @param peer      e.g. "cublas: torch 2.11.0+cu130 torch.mm (...)", "cublas: JCublas 12.6.0 cublasGemmEx, ..." or "cublas: JavaCPP cuda 13.1-9.19-1.5.13 cublasGemmEx, cuBLAS ..."
 * @param device    where it ran, e.g. "cuda (NVIDIA H100 80GB HBM3)"
 * @param precision fp32, tf32 or bf16 (bf16 in and out, fp32 accumulation)
 * @param index     the launch's index in graph order: the layer row it belongs to
 */
public record GemmPeerResult(String peer, String device, String precision, int batch, int index, String node,
                             long m, int n, int k, Samples time) {
    public double gflops() { return 2.0 * m * n * k / time.median() / 1e9; }

    /**
     * The peer GEMM of a CUDA layer row (same precision, batch and launch index), the first one
     * recorded where several peers timed it. Other backends' rows have none: cuBLAS runs on the GPU.
     */
    public static Optional<GemmPeerResult> of(List<GemmPeerResult> peers, LayerResult l) {
        if (!l.backend().startsWith("cuda")) return Optional.empty();
        String precision = BenchSuite.label(l.precision());
        return peers.stream().filter(g -> g.batch() == l.batch() && g.index() == l.index() && g.precision().equals(precision)).findFirst();
    }

    /** Our fused launch's median time over the peer's bare GEMM time (NaN where the layer is untimed): above 1, cuBLAS alone is faster. */
    public static double ratio(LayerResult l, GemmPeerResult g) {
        return l.isTimed() ? l.time().median() / g.time().median() : Double.NaN;
    }
}
