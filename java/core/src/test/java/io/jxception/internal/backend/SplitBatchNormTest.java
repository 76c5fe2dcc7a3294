package io.jxception.internal.backend;

import io.jxception.internal.backend.cpu.CpuBackend;
import io.jxception.internal.backend.opencl.OpenClBackendProvider;
import io.jxception.backend.Precision;
import io.jxception.backend.Probe;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

/**
 * Synchronised batch norm's split ops on the float64 reference and on OpenCL: the rows cut into
 * processes, sums added on the host, equal to the fused op over all rows. The reference's split is
 * the fused computation in another order of additions (1e-12); OpenCL's is fp32 (2e-5).
 */
class SplitBatchNormTest {
    static List<SplitBatchNormCheck.Case> cases() { return SplitBatchNormCheck.cases(); }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void referenceSplitOverProcessesEqualsTheFusedOpOverAllRows(SplitBatchNormCheck.Case c) {
        try (CpuBackend device = new CpuBackend(2); CpuBackend reference = new CpuBackend(2)) {
            SplitBatchNormCheck.check(device, reference, c, 1e-12);
        }
    }

    /** Two cases on OpenCL (each new channel count and epilogue is a pocl build of several seconds): two parts with ReLU, three unequal parts with a residual. */
    static List<SplitBatchNormCheck.Case> openClCases() { return List.of(SplitBatchNormCheck.cases().get(2), SplitBatchNormCheck.cases().get(3)); }

    @ParameterizedTest(name = "{0}")
    @MethodSource("openClCases")
    void openClSplitOverProcessesMatchesTheFusedReference(SplitBatchNormCheck.Case c) {
        Probe probe = new OpenClBackendProvider().probe();
        if (!probe.available()) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) Assertions.fail("CI=true but no OpenCL device: " + probe.reason());
            Assumptions.abort(probe.reason());
        }
        try (KernelBackend device = KernelBackend.of(new OpenClBackendProvider().open(0, Precision.FP32)); CpuBackend reference = new CpuBackend(2)) {
            SplitBatchNormCheck.Result r = SplitBatchNormCheck.check(device, reference, c, 2e-5);
            System.out.println("opencl split batch norm " + r);
        }
    }
}
