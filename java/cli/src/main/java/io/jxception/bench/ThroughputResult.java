package io.jxception.bench;

import io.jxception.backend.Precision;

/**
 * Whole forward passes of one backend at one batch size: {@code forward} times all fused launches
 * of one pass, input already on the device, no transfers (as the peers are timed).
 *
 * @param flopsPerImage counted FLOPs of one image's forward (sum of its launches' {@link LaunchCost})
 * @param floorSeconds  the sum of every launch's floor for the batch (NaN without peaks)
 * @param loadAverage   the machine's 1-minute load average right after the timed passes: how busy it was
 */
public record ThroughputResult(String backend, String device, Precision precision, int batch, int size, Samples forward,
                               String clock, long flopsPerImage, double floorSeconds, double loadAverage) {
    public double imagesPerSecond() { return batch / forward.median(); }

    /** At the fastest repetition: on a shared machine the least disturbed one. */
    public double bestImagesPerSecond() { return batch / forward.min(); }

    public double gflops() { return (double) flopsPerImage * batch / forward.median() / 1e9; }

    /** Images per second the floor allows. */
    public double floorImagesPerSecond() { return batch / floorSeconds; }
}
