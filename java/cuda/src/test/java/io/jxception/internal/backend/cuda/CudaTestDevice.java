package io.jxception.internal.backend.cuda;

import io.jxception.backend.Probe;
import org.junit.jupiter.api.Assumptions;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/** What the gpu-tagged CUDA test classes share: a skip without a usable device, and backends kept open per class. */
final class CudaTestDevice {
    private CudaTestDevice() {}

    /** Skips the calling test class (with the probe's reason) where CUDA cannot run. */
    static void assumeAvailable() {
        Probe p = new CudaBackendProvider().probe();
        Assumptions.assumeTrue(p.available(), p.reason());
    }

    /**
     * The backend options a benchmark main was started with: every {@code -Djxception.cuda.<name>=v}
     * system property as option {@code cuda.<name>=v} (benchmarks/device/steps pass kernel paths this
     * way; the library itself reads no system properties).
     */
    static Map<String, String> optionsFromSystemProperties() {
        Map<String, String> options = new HashMap<>();
        for (String key : System.getProperties().stringPropertyNames()) {
            if (key.startsWith("jxception.cuda.")) options.put(key.substring("jxception.".length()), System.getProperty(key));
        }
        return options;
    }

    /** Backends opened on first use, one per key (a precision, a path setting), closed together in @AfterAll. */
    static final class Backends<K> implements AutoCloseable {
        private final Map<K, CudaBackend> open = new HashMap<>();

        CudaBackend get(K key, Function<K, CudaBackend> opener) { return open.computeIfAbsent(key, opener); }

        @Override public void close() {
            open.values().forEach(CudaBackend::close);
            open.clear();
        }
    }
}
