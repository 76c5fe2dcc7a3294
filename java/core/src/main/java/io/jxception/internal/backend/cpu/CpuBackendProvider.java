package io.jxception.internal.backend.cpu;

import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.backend.BackendProvider;
import io.jxception.backend.Precision;
import io.jxception.backend.Probe;

import java.util.List;

/** The Java reference backend, "cpu": always available, one device, slowest (rank 0). */
public final class CpuBackendProvider implements BackendProvider {
    @Override
    public String kind() { return "cpu"; }

    @Override
    public Probe probe() {
        int threads = Runtime.getRuntime().availableProcessors();
        String name = "Java reference (" + threads + (threads == 1 ? " thread)" : " threads)");
        String details = "float64 arithmetic on the JVM heap, float32 transfers; Java " + System.getProperty("java.version");
        return Probe.of(kind(), List.of(new Probe.Device(0, name, details, 0)));
    }

    /** Only fp32 is offered: the reference stores and computes float64 and rounds to float32 at download. */
    @Override
    public KernelBackend open(int index, Precision precision, java.util.Map<String, String> options) {
        BackendProvider.requireNoOptions(kind(), options);
        if (index != 0) throw new IllegalArgumentException("no cpu device " + index + ": the Java reference has only device 0");
        if (precision != Precision.FP32) {
            throw new IllegalArgumentException("the cpu backend computes in float64 and offers only fp32, not " + precision.name().toLowerCase(java.util.Locale.ROOT)
                    + ": use --precision fp32 or a GPU backend");
        }
        return new CpuBackend();
    }
}
