package io.jxception.internal.backend.cuda;

import io.jxception.backend.Precision;
import io.jxception.image.KerasPreprocessing;
import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.Epilogue;
import io.jxception.internal.exec.ForwardSession;
import io.jxception.model.ConvKind;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.tensor.Uint8Tensor;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * uint8 ingestion on CUDA: the fused stem_cin3_u8 kernels, the preprocess-into-scratch route
 * (convert_u8_to_*: shapes stem_cin3 does not cover, and the old stem path) and the whole network,
 * each equal bit for bit to the float path over the host-preprocessed input, in every precision
 * (the device rounds the preprocessed value to the activation type exactly as it rounds an uploaded
 * float). Outputs poisoned with NaN; pixels drawn fresh.
 */
@Tag("gpu")
class CudaUint8Test {
    private static final CudaTestDevice.Backends<String> BACKENDS = new CudaTestDevice.Backends<>();

    @BeforeAll
    static void requireDevice() { CudaTestDevice.assumeAvailable(); }

    @AfterAll
    static void close() { BACKENDS.close(); }

    private static CudaBackend backend(Precision p, StemConvPath path) {
        return BACKENDS.get(p + "/" + path, k -> new CudaBackend(0, p, CudaBackend.Options.DEFAULT.withSyncEachLaunch(true), path));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Precision.class)
    void stemFromPixelsEqualsTheFloatPathBitForBit(Precision p) {
        List<ConvSpec> specs = List.of(new ConvSpec(ConvKind.CONV3X3_VALID, 3, 41, 37, 3, 32, 2, false),   // block1_conv1: fused stem_cin3_u8
                new ConvSpec(ConvKind.CONV3X3_VALID, 2, 71, 71, 3, 2, 2, false),                              // width 1/16: preprocess into scratch
                new ConvSpec(ConvKind.CONV3X3_VALID, 1, 20, 20, 5, 16, 1, false));                            // cin 5: generic GEMM after preprocessing
        for (StemConvPath path : StemConvPath.values()) {
            CudaBackend cuda = backend(p, path);
            for (ConvSpec spec : specs) {
                long seed = System.nanoTime();
                Random rnd = new Random(seed);
                byte[] raw = new byte[Math.toIntExact(spec.inputElements())];
                rnd.nextBytes(raw);
                float[] x = new float[raw.length];
                for (int i = 0; i < raw.length; i++) x[i] = KerasPreprocessing.tf(raw[i] & 0xff);
                float[] w1 = new float[Math.toIntExact(spec.w1Elements())], scale = new float[spec.cout()], shift = new float[spec.cout()];
                for (int i = 0; i < w1.length; i++) w1[i] = (float) (rnd.nextGaussian() / Math.sqrt(9.0 * spec.cin()));
                for (int i = 0; i < scale.length; i++) { scale[i] = 0.5f + rnd.nextFloat(); shift[i] = (float) rnd.nextGaussian() * 0.3f; }
                List<Buffer> owned = new ArrayList<>();
                try {
                    Buffer in = alloc(cuda, owned, spec.inputElements()), w = alloc(cuda, owned, w1.length);
                    Buffer sc = alloc(cuda, owned, scale.length), sh = alloc(cuda, owned, shift.length);
                    Buffer yFloat = alloc(cuda, owned, spec.outputElements()), yPixels = alloc(cuda, owned, spec.outputElements());
                    cuda.upload(w1, w);
                    cuda.upload(scale, sc);
                    cuda.upload(shift, sh);
                    Epilogue e = new Epilogue(sc, sh, null, true);
                    cuda.fillNaN(yFloat);
                    cuda.fillNaN(yPixels);
                    cuda.upload(x, in);
                    cuda.conv(spec, in, w, null, e, yFloat);
                    float[] fromFloat = download(cuda, yFloat, spec.outputElements());
                    cuda.uploadUint8(raw, 0, in, 0, raw.length);
                    cuda.convUint8(spec, in, w, e, yPixels);
                    float[] fromPixels = download(cuda, yPixels, spec.outputElements());
                    for (float v : fromPixels) assertTrue(Float.isFinite(v), "an output was not written (" + spec + ")");
                    assertArrayEquals(fromFloat, fromPixels, p + " " + path + " " + spec + " (seed " + seed + ")");
                    assertTrue(Arrays.stream(box(fromPixels)).anyMatch(v -> v > 0), "all outputs zero: the comparison would prove nothing");
                } finally {
                    owned.forEach(Buffer::close);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Precision.class, names = {"FP32", "BF16"})
    void wholeNetworkFromPixelsEqualsTheFloatPathPipelinedAndReplayed(Precision p) {
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        XceptionWeights weights = XceptionWeights.random(XceptionGraph.build(XceptionConfig.imagenet().withInputSize(99, 99).withClasses(10)), rnd.nextLong());
        List<Uint8Tensor> pixels = new ArrayList<>();
        List<Tensor> floats = new ArrayList<>();
        for (int n : new int[]{4, 4, 2, 4, 4}) {
            byte[] raw = new byte[n * 99 * 99 * 3];
            rnd.nextBytes(raw);
            float[] x = new float[raw.length];
            for (int i = 0; i < raw.length; i++) x[i] = KerasPreprocessing.tf(raw[i] & 0xff);
            pixels.add(new Uint8Tensor(Shape.of(n, 99, 99, 3), raw));
            floats.add(new Tensor(Shape.of(n, 99, 99, 3), x));
        }
        try (CudaBackend cuda = (CudaBackend) new CudaBackendProvider().open(0, p); ForwardSession s = new ForwardSession(cuda, weights, 4)) {
            List<float[]> expected = new ArrayList<>();
            for (Tensor f : floats) expected.add(s.run(f).data());
            for (int rep = 0; rep < 2; rep++) {   // the second pass replays the uint8 recordings
                float[][] got = new float[pixels.size()][];
                assertEquals(pixels.size(), s.runAllUint8(pixels.iterator(), (i, y) -> got[i] = y.data()));
                for (int i = 0; i < pixels.size(); i++) assertArrayEquals(expected.get(i), got[i], p + " pass " + rep + " batch " + i + " (seed " + seed + ")");
            }
            for (int i = 0; i < pixels.size(); i++) {
                assertArrayEquals(expected.get(i), s.run(pixels.get(i)).data(), "run(Uint8Tensor) batch " + i);
                assertArrayEquals(expected.get(i), s.run(floats.get(i)).data(), "float run after uint8 runs, batch " + i);
            }
        }
    }

    private static Buffer alloc(CudaBackend b, List<Buffer> owned, long n) {
        Buffer buf = b.allocate(n);
        owned.add(buf);
        return buf;
    }

    private static float[] download(CudaBackend b, Buffer buf, long n) {
        float[] out = new float[Math.toIntExact(n)];
        b.download(buf, out);
        return out;
    }

    private static Float[] box(float[] v) {
        Float[] out = new Float[v.length];
        for (int i = 0; i < v.length; i++) out[i] = v[i];
        return out;
    }
}
