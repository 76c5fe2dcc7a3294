package io.jxception.bench;

/**
 * A peer implementation's forward throughput, measured by the same suite in the same run on the
 * same device (benchmarks/peers/pytorch_xception.py).
 *
 * @param peer      e.g. "pytorch 1.13.1 eager channels_last"
 * @param device    "cpu" or "cuda", with the device name the peer reports
 * @param precision "fp32", "bf16" (autocast) ...
 * @param loadAverage the machine's 1-minute load average right after the peer ran (NaN: not known)
 */
public record PeerResult(String peer, String device, String precision, int batch, int size, Samples forward, double loadAverage) {
    public PeerResult withLoadAverage(double load) { return new PeerResult(peer, device, precision, batch, size, forward, load); }

    public double imagesPerSecond() { return batch / forward.median(); }

    public double bestImagesPerSecond() { return batch / forward.min(); }
}
