package io.jxception.internal.backend.cuda;

import io.jxception.backend.Precision;
import io.jxception.internal.backend.SplitBatchNormCheck;
import io.jxception.internal.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

/**
 * Synchronised batch norm's split ops on CUDA (fp32 activations): the rows cut into processes,
 * per-channel sums added on the host, equal to the float64 reference's fused op over all rows
 * within fp32 rounding (the same check the core module runs on the reference and OpenCL).
 */
@Tag("gpu")
class CudaSplitBatchNormTest {
    static List<SplitBatchNormCheck.Case> cases() { return SplitBatchNormCheck.cases(); }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void splitOverProcessesMatchesTheFusedReference(SplitBatchNormCheck.Case c) {
        CudaTestDevice.assumeAvailable();
        try (CudaBackend device = (CudaBackend) new CudaBackendProvider().open(0, Precision.FP32); CpuBackend reference = new CpuBackend(2)) {
            SplitBatchNormCheck.Result r = SplitBatchNormCheck.check(device, reference, c, 2e-5);
            System.out.println("cuda split batch norm " + r);
        }
    }
}
