package io.jxception.internal.backend.cpu;

import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.backend.BatchNormSpec;
import io.jxception.backend.Backends;
import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.Epilogue;
import io.jxception.internal.backend.HeadSpec;
import io.jxception.internal.backend.PoolSpec;
import io.jxception.backend.Precision;
import io.jxception.backend.Probe;
import io.jxception.model.ConvKind;
import io.jxception.model.Pooling;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static io.jxception.internal.backend.cpu.GradientCheck.nans;
import static io.jxception.internal.backend.cpu.GradientCheck.uniform;
import static org.junit.jupiter.api.Assertions.*;

/** Semantics that finite differences cannot see (padding placement, tie breaking, epilogue) and argument checking. */
class CpuBackendTest {
    private final CpuBackend cpu = new CpuBackend(2);

    @AfterEach
    void close() { cpu.close(); }

    @Test
    void conv1x1SameStride2SamplesEvenPixelsOnOddAndEvenSizes() {
        for (int size : new int[]{7, 10}) {
            ConvSpec spec = new ConvSpec(ConvKind.CONV1X1_SAME, 1, size, size, 1, 1, 2, false);
            double[] xs = new double[size * size];
            for (int i = 0; i < xs.length; i++) xs[i] = i + 1;
            Buffer y = buffer(nans((int) spec.outputElements()));
            cpu.conv(spec, buffer(xs), buffer(new double[]{1}), null, Epilogue.NONE, y);
            int out = (size + 1) / 2;
            assertEquals(out * out, spec.outputElements());
            for (int oy = 0; oy < out; oy++) {
                for (int ox = 0; ox < out; ox++) assertEquals(xs[2 * oy * size + 2 * ox], cpu.doubles(y)[oy * out + ox], "size " + size + " at " + oy + "," + ox);
            }
        }
    }

    @Test
    void maxPoolSamePutsTheExtraPaddingBottomRight() {
        // 4x4: out 2, total pad 1, all of it after: windows rows {0,1,2} and {2,3}.
        double[] x4 = new double[16];
        for (int i = 0; i < 16; i++) x4[i] = -i; // the maximum of a window is its top-left valid element
        Buffer y4 = buffer(nans(4));
        cpu.maxPoolAdd(new PoolSpec(1, 4, 4, 1), buffer(x4), null, y4);
        assertArrayEquals(new double[]{0, -2, -8, -10}, cpu.doubles(y4));
        // 5x5: out 3, total pad 2, one before: windows rows {-1,0,1}, {1,2,3}, {3,4,5}.
        double[] x5 = new double[25];
        for (int i = 0; i < 25; i++) x5[i] = -i;
        Buffer y5 = buffer(nans(9));
        cpu.maxPoolAdd(new PoolSpec(1, 5, 5, 1), buffer(x5), null, y5);
        assertArrayEquals(new double[]{0, -1, -3, -5, -6, -8, -15, -16, -18}, cpu.doubles(y5));
    }

    @Test
    void maxPoolBackwardRoutesTiesToTheFirstMaximumInRowMajorOrder() {
        PoolSpec spec = new PoolSpec(1, 4, 4, 2);
        Buffer x = buffer(new double[32]); // all equal: every window is a tie
        double[] dy = {1, 10, 2, 20, 3, 30, 4, 40}; // (1,2,2,2)
        Buffer dx = buffer(nans(32));
        cpu.maxPoolBackward(spec, x, buffer(dy), dx);
        double[] expected = new double[32];
        // window (0,0) starts at pixel (0,0); (0,1) at (0,2); (1,0) at (2,0); (1,1) at (2,2)
        int[] firstPixel = {0, 2, 8, 10};
        for (int o = 0; o < 4; o++) for (int ch = 0; ch < 2; ch++) expected[firstPixel[o] * 2 + ch] += dy[o * 2 + ch];
        assertArrayEquals(expected, cpu.doubles(dx));
    }

    @Test
    void globalMaxPoolBackwardRoutesTiesToTheFirstPixel() {
        double[] x = {5, 1, 5, 1, 5, 1}; // (1, 3 pixels, 2 channels)
        double[] dx = nans(6);
        PoolOps.globalMaxPoolBackward(x, 1, 3, 2, new double[]{7, 9}, dx);
        assertArrayEquals(new double[]{7, 9, 0, 0, 0, 0}, dx);
    }

    @Test
    void epilogueAppliesScaleShiftResidualThenRelu() {
        ConvSpec spec = new ConvSpec(ConvKind.CONV1X1_SAME, 1, 1, 2, 2, 2, 1, false);
        Buffer x = buffer(new double[]{1, 2, 3, 4}); // (1,1,2,2)
        Buffer w = buffer(new double[]{1, 0, 0, 1}); // identity (2,2)
        Buffer scale = buffer(new double[]{2, -1}), shift = buffer(new double[]{0.5, 1});
        Buffer residual = buffer(new double[]{0, -10, 1, 1});
        Buffer y = buffer(nans(4));
        cpu.conv(spec, x, w, null, new Epilogue(scale, shift, residual, true), y);
        // y = relu(z*scale + shift + residual): (1*2+.5+0, -2+1-10, 3*2+.5+1, -4+1+1)
        assertArrayEquals(new double[]{2.5, 0, 7.5, 0}, cpu.doubles(y));
        cpu.conv(spec, x, w, null, new Epilogue(null, null, residual, false), y);
        assertArrayEquals(new double[]{1, -8, 4, 5}, cpu.doubles(y));
    }

    @Test
    void preReluZeroesNegativeInputsBeforeTheConv() {
        ConvSpec spec = new ConvSpec(ConvKind.CONV1X1_SAME, 1, 1, 1, 3, 1, 1, true);
        Buffer y = buffer(nans(1));
        cpu.conv(spec, buffer(new double[]{1, -2, 3}), buffer(new double[]{1, 1, 1}), null, Epilogue.NONE, y);
        assertEquals(4, cpu.doubles(y)[0]);
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        ConvSpec spec = new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 2, 9, 7, 5, 6, 1, true);
        Random rnd = new Random(51);
        double[] x = uniform(rnd, (int) spec.inputElements()), w1 = uniform(rnd, (int) spec.w1Elements());
        double[] w2 = uniform(rnd, (int) spec.w2Elements()), dz = uniform(rnd, (int) spec.outputElements());
        double[][] serial = sepConvAll(1, spec, x, w1, w2, dz), threaded = sepConvAll(3, spec, x, w1, w2, dz);
        for (int i = 0; i < serial.length; i++) assertArrayEquals(serial[i], threaded[i], "output " + i + " differs between 1 and 3 threads");
    }

    private static double[][] sepConvAll(int threads, ConvSpec spec, double[] x, double[] w1, double[] w2, double[] dz) {
        try (CpuBackend b = new CpuBackend(threads)) {
            Buffer xb = copy(b, x), w1b = copy(b, w1), w2b = copy(b, w2), dzb = copy(b, dz);
            Buffer y = b.allocate(spec.outputElements()), dx = b.allocate(x.length), dw1 = b.allocate(w1.length), dw2 = b.allocate(w2.length);
            b.conv(spec, xb, w1b, w2b, Epilogue.NONE, y);
            b.convBackward(spec, xb, w1b, w2b, dzb, dx, dw1, dw2);
            return new double[][]{b.doubles(y).clone(), b.doubles(dx).clone(), b.doubles(dw1).clone(), b.doubles(dw2).clone()};
        }
    }

    @Test
    void sgdUpdateFollowsTheMomentumAndWeightDecayFormula() {
        Buffer p = buffer(new double[]{1, -2}), g = buffer(new double[]{0.5, 0.25}), v = buffer(new double[]{0, 1});
        cpu.sgdUpdate(p, g, v, 2, 0.5f, 0.75f, 0.125f);
        // g' = g + 0.125 p = (0.625, 0); v = 0.75 v + g' = (0.625, 0.75); p -= 0.5 v
        assertArrayEquals(new double[]{0.625, 0.75}, cpu.doubles(v));
        assertArrayEquals(new double[]{0.6875, -2.375}, cpu.doubles(p));
    }

    @Test
    void addInPlaceAddsOnlyCountElements() {
        Buffer a = buffer(new double[]{1, 2, 3}), b = buffer(new double[]{10, 20, 30});
        cpu.addInPlace(a, b, 2);
        assertArrayEquals(new double[]{11, 22, 3}, cpu.doubles(a));
    }

    @Test
    void headWithoutTheTopPoolsByAverageOrMax() {
        Buffer x = buffer(new double[]{1, -1, 3, 5}); // (1,2,1,2)
        Buffer y = buffer(nans(2));
        cpu.head(new HeadSpec(1, 2, 1, 2, Pooling.AVG, false, 0), x, null, null, y);
        assertArrayEquals(new double[]{2, 2}, cpu.doubles(y));
        cpu.head(new HeadSpec(1, 2, 1, 2, Pooling.MAX, false, 0), x, null, null, y);
        assertArrayEquals(new double[]{3, 5}, cpu.doubles(y));
    }

    @Test
    void uploadAndDownloadConvertThroughFloat32WithOffsets() {
        Buffer b = cpu.allocate(4);
        cpu.upload(new float[]{9, 1.5f, 2.5f}, 1, b, 2, 2);
        assertEquals(1.5, cpu.doubles(b)[2]);
        cpu.doubles(b)[3] = 0.1; // not a float32
        float[] out = new float[3];
        cpu.download(b, 2, out, 1, 2);
        assertArrayEquals(new float[]{0, 1.5f, 0.1f}, out);
        assertThrows(IndexOutOfBoundsException.class, () -> cpu.upload(new float[3], 0, b, 2, 3));
    }

    @Test
    void rejectsBuffersThatAreTooSmallWithTheShapeInTheMessage() {
        ConvSpec spec = new ConvSpec(ConvKind.CONV3X3_VALID, 2, 7, 7, 3, 5, 1, false);
        Buffer w = cpu.allocate(spec.w1Elements()), y = cpu.allocate(spec.outputElements());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> cpu.conv(spec, cpu.allocate(100), w, null, Epilogue.NONE, y));
        assertTrue(e.getMessage().contains("conv x holds 100 values") && e.getMessage().contains("(2,7,7,3) needs 294"), e.getMessage());
    }

    @Test
    void rejectsMismatchedArguments() {
        ConvSpec conv = new ConvSpec(ConvKind.CONV1X1_SAME, 1, 2, 2, 2, 2, 2, false);
        Buffer x = cpu.allocate(8), w = cpu.allocate(4), y = cpu.allocate(2);
        assertThrows(IllegalArgumentException.class, () -> cpu.conv(conv, x, w, cpu.allocate(4), Epilogue.NONE, y), "w2 on a non-separable conv");
        ConvSpec sep = new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 1, 2, 2, 2, 2, 1, false);
        assertThrows(IllegalArgumentException.class, () -> cpu.conv(sep, x, cpu.allocate(18), null, Epilogue.NONE, cpu.allocate(8)), "separable without w2");

        BatchNormSpec bn = new BatchNormSpec(4, 2, 1e-3, 0.99, false, true);
        Buffer c2 = cpu.allocate(2);
        assertThrows(IllegalArgumentException.class, () -> cpu.batchNormTrain(bn, x, c2, c2, null, y, c2, c2, c2, c2), "residual promised but missing");

        HeadSpec head = new HeadSpec(1, 1, 1, 2, Pooling.AVG, true, 3);
        Buffer kernel = cpu.allocate(6), bias = cpu.allocate(3), probs = cpu.allocate(3), loss = cpu.allocate(1), dx = cpu.allocate(2);
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> cpu.headTrain(head, c2, kernel, bias, buffer(new double[]{3}), probs, loss, dx, cpu.allocate(6), cpu.allocate(3), 1f));
        assertTrue(bad.getMessage().contains("[0, 3)"), bad.getMessage());

        try (CpuBackend other = new CpuBackend(1)) {
            Buffer foreign = other.allocate(8);
            assertThrows(IllegalArgumentException.class, () -> cpu.addInPlace(foreign, x, 8), "buffer from another backend");
        }
    }

    @Test
    void closeReleasesEveryBuffer() {
        CpuBackend b = new CpuBackend(2);
        Buffer buf = b.allocate(3);
        b.close();
        assertThrows(IllegalStateException.class, () -> b.doubles(buf));
        assertThrows(IllegalStateException.class, () -> b.allocate(1));
        b.close(); // twice is harmless
        buf.close();
    }

    @Test
    void providerIsAlwaysAvailableAsDeviceZeroWithRankZero() {
        Probe probe = new CpuBackendProvider().probe();
        assertTrue(probe.available());
        assertEquals("cpu", probe.kind());
        assertEquals(1, probe.devices().size());
        assertEquals(0, probe.devices().get(0).rank());
        assertTrue(probe.devices().get(0).name().startsWith("Java reference ("));
        try (KernelBackend b = KernelBackend.cpu()) {
            assertEquals("cpu", b.name());
            assertEquals(Precision.FP32, b.precision());
        }
        assertThrows(IllegalArgumentException.class, () -> new CpuBackendProvider().open(0, Precision.BF16));
        assertThrows(IllegalArgumentException.class, () -> new CpuBackendProvider().open(1, Precision.FP32));
    }

    private Buffer buffer(double[] values) { return copy(cpu, values); }

    private static Buffer copy(CpuBackend b, double[] values) {
        Buffer buf = b.allocate(values.length);
        System.arraycopy(values, 0, b.doubles(buf), 0, values.length);
        return buf;
    }
}
