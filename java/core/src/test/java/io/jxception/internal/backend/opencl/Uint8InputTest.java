package io.jxception.internal.backend.opencl;

import io.jxception.backend.Precision;
import io.jxception.exec.InferenceSession;
import io.jxception.image.KerasPreprocessing;
import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.Epilogue;
import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.backend.cpu.CpuBackend;
import io.jxception.model.ConvKind;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.tensor.Uint8Tensor;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * uint8 ingestion ({@link KernelBackend#uploadUint8}, {@link KernelBackend#convUint8}): on the cpu
 * reference and on OpenCL, the first convolution over raw pixels equals the same backend's
 * {@link KernelBackend#conv} over the host-preprocessed float input bit for bit (the preprocessing
 * computes the same float32 numbers), and OpenCL matches the float64 reference within the fp32
 * bound. Outputs are poisoned with NaN, pixels drawn fresh (seed printed on failure).
 */
class Uint8InputTest {
    private static OpenClBackend cl;

    @BeforeAll
    static void open() { cl = OpenClTestSupport.open(); }

    @AfterAll
    static void close() {
        if (cl != null) cl.close();
    }

    static Stream<Arguments> stems() {
        return Stream.of(
                arguments(new ConvSpec(ConvKind.CONV3X3_VALID, 2, 31, 29, 3, 32, 2, false), true, true),   // block1_conv1 at full width
                arguments(new ConvSpec(ConvKind.CONV3X3_VALID, 1, 71, 71, 3, 2, 2, false), true, true),    // the tiny network's (width 1/16)
                arguments(new ConvSpec(ConvKind.CONV3X3_VALID, 3, 12, 17, 3, 19, 1, false), false, false),  // cout 19: a shifted tail vector
                arguments(new ConvSpec(ConvKind.CONV3X3_VALID, 1, 9, 9, 5, 8, 1, false), true, false));     // other channel counts work too
    }

    @ParameterizedTest(name = "{0} bn={1} relu={2}")
    @MethodSource("stems")
    void rawPixelsGiveTheFloatPathsValuesBitForBit(ConvSpec spec, boolean bn, boolean relu) {
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        int pixels = Math.toIntExact(spec.inputElements());
        byte[] raw = new byte[pixels];
        rnd.nextBytes(raw);
        raw[0] = 0;
        raw[pixels - 1] = (byte) 255;   // both ends of the range
        float[] preprocessed = new float[pixels];
        for (int i = 0; i < pixels; i++) preprocessed[i] = KerasPreprocessing.tf(raw[i] & 0xff);
        float[] w1 = gaussian(rnd, spec.w1Elements(), 1 / Math.sqrt(9.0 * spec.cin()));
        float[] scale = bn ? uniform(rnd, spec.cout(), 0.5, 1.5) : null, shift = bn ? gaussian(rnd, spec.cout(), 0.3) : null;
        int out = Math.toIntExact(spec.outputElements());

        try (CpuBackend cpu = new CpuBackend(2)) {
            float[] refFloat = run(cpu, spec, preprocessed, null, w1, scale, shift, relu, out);
            float[] refUint8 = run(cpu, spec, null, raw, w1, scale, shift, relu, out);
            float[] clFloat = run(cl, spec, preprocessed, null, w1, scale, shift, relu, out);
            float[] clUint8 = run(cl, spec, null, raw, w1, scale, shift, relu, out);
            assertArrayEquals(refFloat, refUint8, "cpu: uint8 path differs from the float path (seed " + seed + ")");
            assertArrayEquals(clFloat, clUint8, "opencl: uint8 path differs from the float path (seed " + seed + ")");
            double err = Twin.relativeError(refFloat, clUint8, "opencl uint8 vs reference (seed " + seed + ")");
            assertTrue(err < Twin.FP32_TOLERANCE, "relative error " + err + " (seed " + seed + ")");
        }
    }

    /** One conv (float input when {@code x} is given, else raw pixels) into a NaN-poisoned output; returns y. */
    private static float[] run(KernelBackend b, ConvSpec spec, float[] x, byte[] raw, float[] w1, float[] scale, float[] shift, boolean relu, int out) {
        List<Buffer> owned = new ArrayList<>();
        try {
            Buffer in = own(owned, b.allocate(spec.inputElements()));
            Buffer w = own(owned, b.allocate(w1.length));
            b.upload(w1, w);
            Buffer sc = null, sh = null;
            if (scale != null) {
                sc = own(owned, b.allocate(scale.length));
                sh = own(owned, b.allocate(shift.length));
                b.upload(scale, sc);
                b.upload(shift, sh);
            }
            Buffer y = own(owned, b.allocate(out));
            float[] nan = new float[out];
            java.util.Arrays.fill(nan, Float.NaN);
            b.upload(nan, y);
            Epilogue e = new Epilogue(sc, sh, null, relu);
            if (x != null) {
                b.upload(x, in);
                b.conv(spec, in, w, null, e, y);
            } else {
                b.uploadUint8(raw, 0, in, 0, raw.length);
                b.convUint8(spec, in, w, e, y);
            }
            float[] got = new float[out];
            b.download(y, got);
            for (int i = 0; i < out; i++) assertTrue(Float.isFinite(got[i]), b.name() + ": output " + i + " not written: " + got[i]);
            return got;
        } finally {
            for (Buffer buf : owned) buf.close();
        }
    }

    private static Buffer own(List<Buffer> owned, Buffer b) {
        owned.add(b);
        return b;
    }

    @Test
    void onlyTheFirstConvolutionReadsPixels() {
        try (CpuBackend cpu = new CpuBackend(1)) {
            Buffer b = cpu.allocate(27);
            ConvSpec separable = new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 1, 3, 3, 3, 3, 1, false);
            ConvSpec preRelu = new ConvSpec(ConvKind.CONV3X3_VALID, 1, 3, 3, 3, 3, 1, true);
            for (KernelBackend k : new KernelBackend[]{cpu, cl}) {
                assertThrows(IllegalArgumentException.class, () -> k.convUint8(separable, b, b, Epilogue.NONE, b), k.name());
                assertThrows(IllegalArgumentException.class, () -> k.convUint8(preRelu, b, b, Epilogue.NONE, b), k.name());
            }
        }
    }

    /**
     * The whole tiny network (71x71, width 1/16, 10 classes) from raw pixels: {@link InferenceSession#run(Uint8Tensor)}
     * and {@code runAllUint8} equal the float path bit for bit on cpu and OpenCL, batch by batch.
     */
    @Test
    void wholeNetworkFromPixelsEqualsTheFloatPathBitForBit() {
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        XceptionWeights weights = XceptionWeights.random(XceptionGraph.build(XceptionConfig.tiny(71, 10)), rnd.nextLong());
        List<Uint8Tensor> pixels = new ArrayList<>();
        List<Tensor> floats = new ArrayList<>();
        for (int n : new int[]{2, 1, 2}) {
            byte[] raw = new byte[n * 71 * 71 * 3];
            rnd.nextBytes(raw);
            float[] x = new float[raw.length];
            for (int i = 0; i < raw.length; i++) x[i] = KerasPreprocessing.tf(raw[i] & 0xff);
            pixels.add(new Uint8Tensor(Shape.of(n, 71, 71, 3), raw));
            floats.add(new Tensor(Shape.of(n, 71, 71, 3), x));
        }
        for (KernelBackend b : new KernelBackend[]{new CpuBackend(2), (KernelBackend) new OpenClBackendProvider().open(0, Precision.FP32)}) {
            try (b; InferenceSession s = new InferenceSession(b, weights, 2)) {
                List<Tensor> viaAll = new ArrayList<>();
                assertEquals(3, s.runAllUint8(pixels.iterator(), (i, y) -> viaAll.add(y)));
                for (int i = 0; i < pixels.size(); i++) {
                    Tensor fromFloat = s.run(floats.get(i));
                    Tensor fromPixels = s.run(pixels.get(i));   // float and uint8 runs alternate in one session
                    assertEquals(fromFloat.shape(), fromPixels.shape());
                    assertArrayEquals(fromFloat.data(), fromPixels.data(), b.name() + " batch " + i + " (seed " + seed + ")");
                    assertArrayEquals(fromFloat.data(), viaAll.get(i).data(), b.name() + " runAllUint8 batch " + i + " (seed " + seed + ")");
                }
                float spread = Math.abs(viaAll.get(0).data()[0] - viaAll.get(0).data()[10]);
                assertTrue(spread > 0, "two images gave the same probabilities: the test would not see a mix-up");
            }
        }
    }

    private static float[] gaussian(Random rnd, long n, double scale) {
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rnd.nextGaussian() * scale);
        return v;
    }

    private static float[] uniform(Random rnd, long n, double lo, double hi) {
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        return v;
    }
}
