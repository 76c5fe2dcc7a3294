package io.jxception.bench;

import java.util.List;
import java.util.Optional;

/**
 * A peer implementation's forward throughput, measured by the same suite in the same run on the
 * same device (benchmarks/peers/pytorch_xception.py).
 *
 * @param peer             the row's full label, e.g. "pytorch 2.11.0+cu130 timm 1.0.20 legacy_xception compile channels_last"
 * @param model            {@link #KERAS_PORT} (our Keras-exact port) or {@link #TIMM} (timm's legacy_xception)
 * @param mode             "eager", "compile" (torch.compile, mode default) or "compile max-autotune-no-cudagraphs"
 * @param device           "cpu" or "cuda", with the device name the peer reports, e.g. "cuda (NVIDIA H200)"
 * @param precision        "fp32", "tf32", "bf16" (autocast) ...
 * @param firstCallSeconds wall time of the first call at this batch size: under torch.compile, compile + one
 *                         forward; NaN where not recorded (reports before 2026-12)
 * @param loadAverage      the machine's 1-minute load average right after the peer ran (NaN: not known)
 */
public record PeerResult(String peer, String model, String mode, String device, String precision, int batch, int size,
                         Samples forward, double firstCallSeconds, double loadAverage) {
    public static final String KERAS_PORT = "keras-port", TIMM = "timm legacy_xception";

    /**
     * A row of a report written before the peers were labelled by model (2026-11): every peer then
     * was the Keras port, and its label ended in "eager channels_last" or "compile channels_last".
     */
    public PeerResult(String peer, String device, String precision, int batch, int size, Samples forward, double loadAverage) {
        this(peer, KERAS_PORT, peer.contains(" compile ") ? "compile" : "eager", device, precision, batch, size, forward, Double.NaN, loadAverage);
    }

    public PeerResult withLoadAverage(double load) {
        return new PeerResult(peer, model, mode, device, precision, batch, size, forward, firstCallSeconds, load);
    }

    public double imagesPerSecond() { return batch / forward.median(); }

    public double bestImagesPerSecond() { return batch / forward.min(); }

    public boolean compiled() { return mode.startsWith("compile"); }

    /** The device's name as the peer reported it: "NVIDIA H200" of "cuda (NVIDIA H200)". */
    public String deviceName() {
        int open = device.indexOf('('), close = device.lastIndexOf(')');
        return open >= 0 && close > open ? device.substring(open + 1, close) : device;
    }

    /** Model, mode and precision: how the summary names a row, e.g. "timm legacy_xception compile bf16". */
    public String configuration() { return model + " " + mode + " " + precision; }

    /**
     * The fastest PyTorch row (median img/s) that runs what a throughput row of ours runs: the same
     * batch and precision on the same device: PyTorch CUDA on the card our CUDA backend (or our
     * OpenCL backend on that card) ran on, PyTorch CPU beside our CPU backends. Every model and
     * mode counts: the comparison is against the best PyTorch can do.
     */
    public static Optional<PeerResult> best(List<PeerResult> peers, ThroughputResult t) {
        return peers.stream().filter(p -> p.runsLike(t)).max(java.util.Comparator.comparingDouble(PeerResult::imagesPerSecond));
    }

    /** Whether this row measured the configuration of {@code t} (see {@link #best}). */
    public boolean runsLike(ThroughputResult t) {
        if (batch != t.batch() || !precision.equals(BenchSuite.label(t.precision()))) return false;
        if (t.backend().startsWith("cuda")) return device.startsWith("cuda");
        if (CardPeaks.isGpu(t.device())) return device.startsWith("cuda") && deviceName().equals(CardPeaks.card(t.device()));
        return device.startsWith("cpu");
    }
}
