package io.jxception.bench;

import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.backend.Buffer;
import io.jxception.backend.Precision;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What {@link PeakMeter} counts and launches, on a backend that runs nothing and a clock that
 * says every launch took {@link #LAUNCH_SECONDS}: the peaks are then the counted work over that
 * time, so the counts themselves are checked.
 */
class PeakMeterTest {
    private static final double LAUNCH_SECONDS = 0.01;

    /** Buffers of a recording backend: who wrote each last ("upload" or "conv"). */
    private static final class Recorder {
        final Map<Buffer, String> lastWriter = new IdentityHashMap<>();
        final List<String> convInputWriters = new ArrayList<>();
        final List<Long> addCounts = new ArrayList<>();
    }

    private static KernelBackend recordingBackend(Precision precision, Recorder rec) {
        return (KernelBackend) Proxy.newProxyInstance(KernelBackend.class.getClassLoader(), new Class<?>[]{KernelBackend.class}, (proxy, m, a) -> {
            switch (m.getName()) {
                case "name": return "fake";
                case "description": return "fake device, " + precision;
                case "precision": return precision;
                case "allocate": {
                    long elements = (Long) a[0];
                    return new Buffer() {
                        @Override public long elements() { return elements; }
                        @Override public void close() {}
                    };
                }
                case "upload": rec.lastWriter.put((Buffer) a[a.length == 2 ? 1 : 2], "upload"); return null;
                case "conv":
                    rec.convInputWriters.add(rec.lastWriter.get((Buffer) a[1]));
                    rec.lastWriter.put((Buffer) a[5], "conv");
                    return null;
                case "addInPlace": rec.addCounts.add((Long) a[2]); return null;
                case "synchronize", "close": return null;
                default: throw new UnsupportedOperationException(m.getName());
            }
        });
    }

    private static final DeviceClock FIXED = new DeviceClock() {
        @Override public double seconds(Runnable enqueue) {
            enqueue.run();
            return LAUNCH_SECONDS;
        }

        @Override public String kind() { return "fixed"; }
    };

    @Test
    void bandwidthProbeCountsTheFp32BytesItsUploadedBuffersHoldInEveryPrecision() {
        // The H100 report of 2026-11-26 had 1,333 GB/s at bf16 against 2,646 at fp32: the probe's
        // buffers hold fp32 (host uploads) but were counted at 2 bytes per element.
        Recorder fp32 = new Recorder(), bf16 = new Recorder();
        Peaks a = new PeakMeter(recordingBackend(Precision.FP32, fp32), FIXED, Progress.NONE).measure();
        Peaks b = new PeakMeter(recordingBackend(Precision.BF16, bf16), FIXED, Progress.NONE).measure();
        long elements = bf16.addCounts.get(0);
        assertTrue(bf16.addCounts.stream().allMatch(c -> c == elements), "one probe size once the first launch is timed");
        assertEquals(3.0 * 4 * elements / LAUNCH_SECONDS, b.bytesPerSecond(), 1e-6 * b.bytesPerSecond(),
                "read dst and src, write dst, 4 bytes each");
        assertEquals(a.bytesPerSecond(), b.bytesPerSecond(), 1e-9 * a.bytesPerSecond(), "DRAM bandwidth does not depend on the precision");
        assertTrue(b.bandwidthProbe().contains("4 bytes each"), b.bandwidthProbe());
    }

    @Test
    void computeProbeTimesConvsThatReadAConvsOutputNotAnUpload() {
        // A bf16 backend converts an fp32 upload before every launch that reads it: the probe must
        // read activations a conv wrote, so that only the conv is timed.
        Recorder rec = new Recorder();
        Peaks p = new PeakMeter(recordingBackend(Precision.BF16, rec), FIXED, Progress.NONE).measure();
        long fromUploads = rec.convInputWriters.stream().filter("upload"::equals).count();
        long fromConvs = rec.convInputWriters.stream().filter("conv"::equals).count();
        assertEquals(rec.convInputWriters.size(), fromUploads + fromConvs, "every conv input was written before");
        // one untimed conversion launch per probed batch size, several timed launches each
        assertTrue(fromConvs > 2 * fromUploads, fromUploads + " launches read uploads, " + fromConvs + " read conv outputs");
        assertTrue(p.computeProbe().contains("bf16") && p.computeProbe().contains("pointwise GEMM"), p.computeProbe());
        // n grows to 64 (time fixed, FLOPs doubling) and the best shape is C = 2048 at 16x16
        long flops = 2L * 64 * 16 * 16 * (9L * 2048 + 2048L * 2048);
        assertEquals(flops / LAUNCH_SECONDS, p.flopsPerSecond(), 1e-9 * p.flopsPerSecond());
    }
}
