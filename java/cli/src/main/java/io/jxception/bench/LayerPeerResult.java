package io.jxception.bench;

import java.util.List;
import java.util.Optional;

/**
 * One fused launch's work in PyTorch eager on the same card, timed alone in the same run
 * (benchmarks/peers/cudnn_layers.py): its convolutions are cuDNN's, its batch norm, ReLU, add and
 * pooling PyTorch's own kernels, each a launch of its own.
 *
 * @param peer      e.g. "cudnn: torch 2.11.0+cu130 eager (cuDNN 91500, CUDA 13.0)"
 * @param device    where it ran, e.g. "cuda (NVIDIA H200)"
 * @param precision fp32 (strict), tf32, bf16 or fp16 (every tensor in that type)
 * @param index     the launch's index in graph order: the layer rows it belongs to
 * @param ops       what PyTorch ran, e.g. "relu, conv2d depthwise 3x3 'same', conv2d 1x1, batch_norm, add"
 */
public record LayerPeerResult(String peer, String device, String precision, int batch, int index, String node, String ops, Samples time) {
    /** The source of the torch-based rows (LayerPeerRunner's "cudnn: torch ..."). */
    static final String TORCH_SOURCE = "cudnn";

    /** Which peer built the row, the peer label before ": ": "cudnn" (PyTorch eager) or "cudnn9-jvm" ({@link CudnnPeer}). */
    public String source() {
        int colon = peer.indexOf(": ");
        return colon >= 0 ? peer.substring(0, colon) : peer;
    }

    /** The device's name: "NVIDIA H200" of "cuda (NVIDIA H200)". */
    public String deviceName() {
        int open = device.indexOf('('), close = device.lastIndexOf(')');
        return open >= 0 && close > open ? device.substring(open + 1, close) : device;
    }

    /**
     * The peer row of a layer row: same launch, batch and precision, run on the card the layer ran
     * on (CUDA and OpenCL rows on one card share it), the first recorded where several peers timed it
     * (PyTorch eager's, then the JVM cuDNN one's). CPU backends' rows have none.
     */
    public static Optional<LayerPeerResult> of(List<LayerPeerResult> peers, LayerResult l) {
        return of(peers, l, null);
    }

    /** The same, from one source only ({@link #source()}); null: any. */
    public static Optional<LayerPeerResult> of(List<LayerPeerResult> peers, LayerResult l, String source) {
        if (!CardPeaks.isGpu(l.device())) return Optional.empty();
        String precision = BenchSuite.label(l.precision()), card = CardPeaks.card(l.device());
        return peers.stream().filter(p -> p.batch() == l.batch() && p.index() == l.index() && p.precision().equals(precision)
                && p.deviceName().equals(card) && (source == null || p.source().equals(source))).findFirst();
    }

    /** Our launch's median time over the peer's (NaN where the layer is untimed): above 1, PyTorch is faster. */
    public static double ratio(LayerResult l, LayerPeerResult p) {
        return l.isTimed() ? l.time().median() / p.time().median() : Double.NaN;
    }
}
