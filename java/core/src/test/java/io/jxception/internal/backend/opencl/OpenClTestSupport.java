package io.jxception.internal.backend.opencl;

import io.jxception.backend.Precision;
import io.jxception.backend.Probe;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Opens opencl:0 for a test. Without an OpenCL platform the test is skipped with the probe's reason,
 * except under CI (env CI=true), where a missing platform is a failure: CI installs pocl.
 */
final class OpenClTestSupport {
    private OpenClTestSupport() {}

    static Probe requirePlatform() {
        Probe probe = new OpenClBackendProvider().probe();
        if (!probe.available()) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                Assertions.fail("CI=true but no OpenCL device: " + probe.reason() + " (CI must install pocl-opencl-icd and ocl-icd-libopencl1)");
            }
            Assumptions.abort(probe.reason());
        }
        return probe;
    }

    static OpenClBackend open() {
        requirePlatform();
        return (OpenClBackend) new OpenClBackendProvider().open(0, Precision.FP32);
    }
}
