package io.jxception.internal.backend.cpu;

import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.Epilogue;
import io.jxception.model.ConvKind;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static io.jxception.internal.backend.cpu.GradientCheck.*;

/**
 * Finite-difference checks of every convolution backward: L = Σ conv(x)·R for a random upstream R,
 * so ∂L/∂x and ∂L/∂w are the backward of R. Outputs are poisoned with NaN before each call.
 */
class CpuConvGradientTest {
    private final CpuBackend cpu = new CpuBackend(2);

    @AfterEach
    void close() { cpu.close(); }

    @Test
    void conv3x3ValidStride1() { checkBackendConv(new ConvSpec(ConvKind.CONV3X3_VALID, 2, 7, 6, 3, 5, 1, false), 1); }

    @Test
    void conv3x3ValidStride2OddSize() { checkBackendConv(new ConvSpec(ConvKind.CONV3X3_VALID, 2, 9, 7, 3, 4, 2, false), 2); }

    @Test
    void conv3x3ValidStride2EvenSizeDropsLastRow() { checkBackendConv(new ConvSpec(ConvKind.CONV3X3_VALID, 2, 10, 8, 2, 3, 2, false), 3); }

    @Test
    void conv1x1SameStride2OddSize() { checkBackendConv(new ConvSpec(ConvKind.CONV1X1_SAME, 2, 7, 9, 5, 4, 2, false), 4); }

    @Test
    void conv1x1SameStride2EvenSize() { checkBackendConv(new ConvSpec(ConvKind.CONV1X1_SAME, 2, 10, 8, 5, 4, 2, false), 5); }

    @Test
    void separableWithPreRelu() { checkBackendConv(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 2, 7, 6, 5, 4, 1, true), 6); }

    @Test
    void separableWithoutPreRelu() { checkBackendConv(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 2, 5, 8, 3, 6, 1, false), 7); }

    @Test
    void conv3x3ValidWithPreRelu() { checkBackendConv(new ConvSpec(ConvKind.CONV3X3_VALID, 1, 6, 7, 3, 4, 1, true), 8); }

    @Test
    void depthwiseSameOddAndEvenSizes() {
        checkDepthwise(2, 7, 7, 5, 9);
        checkDepthwise(1, 10, 6, 3, 10);
        checkDepthwise(1, 1, 2, 2, 11); // every tap but one falls in the padding
    }

    @Test
    void pointwise() {
        Random rnd = new Random(12);
        int pixels = 2 * 5 * 7 + 3, cin = 6, cout = 9; // not a multiple of the pixel tile
        double[] x = uniform(rnd, pixels * cin), pw = uniform(rnd, cin * cout), r = uniform(rnd, pixels * cout);
        double[] y = new double[pixels * cout];
        Loss loss = () -> {
            ConvOps.pointwise(Parallel.SERIAL, x, pixels, cin, pw, cout, y);
            return dot(y, r, y.length);
        };
        double[] dx = nans(x.length), dPw = nans(pw.length);
        ConvOps.pointwiseBackwardInput(Parallel.SERIAL, r, pixels, cin, pw, cout, dx);
        ConvOps.pointwiseBackwardKernel(Parallel.SERIAL, x, pixels, cin, r, cout, dPw);
        assertGradient("pointwise dx", numeric(x, x.length, loss), dx);
        assertGradient("pointwise dPw", numeric(pw, pw.length, loss), dPw);
    }

    private void checkDepthwise(int n, int h, int w, int c, long seed) {
        Random rnd = new Random(seed);
        double[] x = uniform(rnd, n * h * w * c), dw = uniform(rnd, 9 * c), r = uniform(rnd, n * h * w * c);
        double[] y = new double[x.length];
        Loss loss = () -> {
            ConvOps.depthwise3x3Same(Parallel.SERIAL, x, n, h, w, c, dw, y);
            return dot(y, r, y.length);
        };
        double[] dx = nans(x.length), dDw = nans(dw.length);
        ConvOps.depthwise3x3SameBackwardInput(Parallel.SERIAL, r, n, h, w, c, dw, dx);
        ConvOps.depthwise3x3SameBackwardKernel(Parallel.SERIAL, x, n, h, w, c, r, dDw);
        String at = " (" + n + "," + h + "," + w + "," + c + ")";
        assertGradient("depthwise dx" + at, numeric(x, x.length, loss), dx);
        assertGradient("depthwise dDw" + at, numeric(dw, dw.length, loss), dDw);
    }

    /** Through {@link CpuBackend#conv} and {@link CpuBackend#convBackward}, so preRelu and the buffer plumbing are covered. */
    private void checkBackendConv(ConvSpec spec, long seed) {
        Random rnd = new Random(seed);
        Buffer x = buffer(spec.preRelu() ? awayFromZero(rnd, (int) spec.inputElements(), 0.05) : uniform(rnd, (int) spec.inputElements()));
        Buffer w1 = buffer(uniform(rnd, (int) spec.w1Elements()));
        Buffer w2 = spec.kind() == ConvKind.SEPARABLE3X3_SAME ? buffer(uniform(rnd, (int) spec.w2Elements())) : null;
        double[] r = uniform(rnd, (int) spec.outputElements());
        Buffer y = cpu.allocate(spec.outputElements());
        Loss loss = () -> {
            cpu.conv(spec, x, w1, w2, Epilogue.NONE, y);
            return dot(cpu.doubles(y), r, r.length);
        };
        Buffer dz = buffer(r);
        Buffer dx = buffer(nans((int) spec.inputElements()));
        Buffer dw1 = buffer(nans((int) spec.w1Elements()));
        Buffer dw2 = w2 == null ? null : buffer(nans((int) spec.w2Elements()));
        cpu.convBackward(spec, x, w1, w2, dz, dx, dw1, dw2);
        assertGradient(spec + " dx", numeric(cpu.doubles(x), (int) spec.inputElements(), loss), cpu.doubles(dx));
        assertGradient(spec + " dw1", numeric(cpu.doubles(w1), (int) spec.w1Elements(), loss), cpu.doubles(dw1));
        if (w2 != null) assertGradient(spec + " dw2", numeric(cpu.doubles(w2), (int) spec.w2Elements(), loss), cpu.doubles(dw2));
    }

    private Buffer buffer(double[] values) {
        Buffer b = cpu.allocate(values.length);
        System.arraycopy(values, 0, cpu.doubles(b), 0, values.length);
        return b;
    }
}
