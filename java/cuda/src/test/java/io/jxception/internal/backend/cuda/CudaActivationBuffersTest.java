package io.jxception.internal.backend.cuda;

import io.jxception.backend.Precision;
import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.HeadSpec;
import io.jxception.internal.exec.TrainingSession;
import io.jxception.internal.train.KerasInit;
import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link CudaBackend#allocateActivations}: 2 bytes per element in BF16/FP16 mode, holding only that
 * storage (fp32 kernel outputs and fp32 async uploads refused, a plain upload rounded to it), 4 bytes
 * and any storage in FP32/TF32 mode; a training session's activations then take half the memory.
 * The training step's own results on these buffers are checked by CudaNetworkTest.
 */
@Tag("gpu")
class CudaActivationBuffersTest {
    @BeforeAll
    static void requireDevice() { CudaTestDevice.assumeAvailable(); }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Precision.class)
    void sixteenBitModesStoreActivationsInTwoBytes(Precision p) {
        boolean half = p == Precision.BF16 || p == Precision.FP16;
        int n = 1001;
        float[] v = new float[n];
        Random r = new Random();
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        try (CudaBackend cuda = (CudaBackend) new CudaBackendProvider().open(0, p)) {
            CudaBuffer b = (CudaBuffer) cuda.allocateActivations(n);
            assertEquals(half ? 2L * n : 4L * n, b.capacityBytes());
            assertEquals(half ? (p == Precision.BF16 ? CudaBuffer.Storage.BF16 : CudaBuffer.Storage.F16) : null, b.compact());
            cuda.upload(v, b);
            float[] back = new float[n];
            cuda.download(b, back);
            float[] expected = new float[n];
            for (int i = 0; i < n; i++) {
                expected[i] = !half ? v[i] : p == Precision.BF16 ? HalfFloats.fromBf16(HalfFloats.toBf16(v[i])) : HalfFloats.fromF16(HalfFloats.toF16(v[i]));
            }
            assertArrayEquals(expected, back, "an upload into a 2-byte buffer rounds to its storage; a 4-byte one keeps fp32");
            if (half) {
                assertThrows(IllegalArgumentException.class, () -> cuda.uploadAsync(v, 0, b, 0, n, null), "uploadAsync writes fp32");
                // the head writes fp32 logits: refused into a 2-byte buffer before any launch
                Buffer x = cuda.allocateActivations(8), kernel = cuda.allocate(32), bias = cuda.allocate(4), y = cuda.allocateActivations(4);
                cuda.upload(java.util.Arrays.copyOf(v, 8), x);
                cuda.upload(java.util.Arrays.copyOf(v, 32), kernel);
                cuda.upload(java.util.Arrays.copyOf(v, 4), bias);
                long launches = cuda.launchCount();
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> cuda.head(new HeadSpec(1, 1, 1, 8, Pooling.AVG, true, 4), x, kernel, bias, y));
                assertTrue(e.getMessage().contains("activation buffer"), e.getMessage());
                assertEquals(launches, cuda.launchCount(), "nothing launched");
            }
        }
    }

    @Test
    void aBf16TrainingSessionHoldsAboutHalfTheMemoryOfAnFp32One() {
        // width 0.5, one middle block: 0.49M values per image in 25 values, buffers of ~5 MB at batch 64 (allocation rounding negligible)
        XceptionGraph g = XceptionGraph.build(new XceptionConfig(71, 71, 10, true, Pooling.NONE, 0.5, 1));
        XceptionWeights w = KerasInit.fresh(g, 4);
        int batch = 64;
        long[] held = new long[2];
        Precision[] ps = {Precision.FP32, Precision.BF16};
        for (int k = 0; k < 2; k++) {
            try (CudaBackend cuda = (CudaBackend) new CudaBackendProvider().open(0, ps[k])) {
                long before = cuda.deviceMemoryUsedBytes();
                try (TrainingSession s = new TrainingSession(cuda, w, batch)) {
                    held[k] = cuda.deviceMemoryUsedBytes() - before;
                }
            }
        }
        // act + grad + z: 3 x 31.5M values (378 MB fp32, 189 MB bf16); weights, gradients, momentum: 29 MB in both
        assertTrue(held[1] < 0.65 * held[0] && held[1] > 0.45 * held[0], "FP32 session " + held[0] + " bytes, BF16 " + held[1]);
    }
}
