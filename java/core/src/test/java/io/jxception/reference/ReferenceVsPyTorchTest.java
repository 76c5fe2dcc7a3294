package io.jxception.reference;

import io.jxception.internal.backend.BatchNormSpec;
import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.Epilogue;
import io.jxception.internal.backend.HeadSpec;
import io.jxception.internal.backend.PoolSpec;
import io.jxception.internal.backend.cpu.BatchNormOps;
import io.jxception.internal.backend.cpu.ConvOps;
import io.jxception.internal.backend.cpu.CpuBackend;
import io.jxception.internal.backend.cpu.Parallel;
import io.jxception.internal.backend.cpu.PoolOps;
import io.jxception.model.ConvKind;
import io.jxception.model.Pooling;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The Java reference against PyTorch (float64, TF 'same' padding applied by hand) on the small
 * fixtures of {@code weights/fixtures/generate_op_fixtures.py}: every op forward and backward.
 * Fused ops go through {@link CpuBackend}; ops the Backend only uses inside a fusion (depthwise,
 * pointwise, BN inference, global pools) are called on the reference ops directly.
 */
class ReferenceVsPyTorchTest {
    private static final double TOLERANCE = 1e-5;
    private final CpuBackend cpu = new CpuBackend(2);

    @AfterEach
    void close() { cpu.close(); }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "conv3x3_valid_s1_7, CONV3X3_VALID, 1",
            "conv3x3_valid_s2_10, CONV3X3_VALID, 2",
            "conv3x3_valid_s2_19, CONV3X3_VALID, 2",
            "conv1x1_same_s2_7, CONV1X1_SAME, 2",
            "conv1x1_same_s2_10, CONV1X1_SAME, 2",
            "conv1x1_same_s2_19, CONV1X1_SAME, 2"})
    void convolution(String name, ConvKind kind, int stride) {
        Fixture f = Fixture.op(name);
        int[] x = f.shape("x"), k = f.shape("kernel");
        ConvSpec spec = new ConvSpec(kind, x[0], x[1], x[2], x[3], k[3], stride, false);
        Buffer xb = load(f, "x"), kb = load(f, "kernel"), y = poisoned(spec.outputElements());
        cpu.conv(spec, xb, kb, null, Epilogue.NONE, y);
        check(f, "y", y);
        Buffer dx = poisoned(spec.inputElements()), dk = poisoned(spec.w1Elements());
        cpu.convBackward(spec, xb, kb, null, load(f, "dy"), dx, dk, null);
        check(f, "dx", dx);
        check(f, "dkernel", dk);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"separable_prerelu_10, true", "separable_19, false"})
    void separableConvolution(String name, boolean preRelu) {
        Fixture f = Fixture.op(name);
        int[] x = f.shape("x"), pw = f.shape("pointwise_kernel");
        ConvSpec spec = new ConvSpec(ConvKind.SEPARABLE3X3_SAME, x[0], x[1], x[2], x[3], pw[3], 1, preRelu);
        Buffer xb = load(f, "x"), dw = load(f, "depthwise_kernel"), pwb = load(f, "pointwise_kernel"), y = poisoned(spec.outputElements());
        cpu.conv(spec, xb, dw, pwb, Epilogue.NONE, y);
        check(f, "y", y);
        Buffer dx = poisoned(spec.inputElements()), ddw = poisoned(spec.w1Elements()), dpw = poisoned(spec.w2Elements());
        cpu.convBackward(spec, xb, dw, pwb, load(f, "dy"), dx, ddw, dpw);
        check(f, "dx", dx);
        check(f, "ddepthwise_kernel", ddw);
        check(f, "dpointwise_kernel", dpw);
    }

    @Test
    void separableConvWithInferenceBatchNormResidualAndRelu() {
        Fixture f = Fixture.op("sepconv_bn_inference_residual_relu_7");
        int[] x = f.shape("x"), pw = f.shape("pointwise_kernel");
        int cout = pw[3];
        ConvSpec spec = new ConvSpec(ConvKind.SEPARABLE3X3_SAME, x[0], x[1], x[2], x[3], cout, 1, true);
        double[] scale = new double[cout], shift = new double[cout];
        BatchNormOps.inferenceScaleShift(f.get("gamma"), f.get("beta"), f.get("moving_mean"), f.get("moving_variance"),
                cout, BatchNormSpec.KERAS_EPSILON, scale, shift);
        Buffer y = poisoned(spec.outputElements());
        cpu.conv(spec, load(f, "x"), load(f, "depthwise_kernel"), load(f, "pointwise_kernel"),
                new Epilogue(copy(scale), copy(shift), load(f, "residual"), true), y);
        check(f, "y", y);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"depthwise_same_7", "depthwise_same_10", "depthwise_same_19"})
    void depthwise(String name) {
        Fixture f = Fixture.op(name);
        int[] s = f.shape("x");
        double[] x = f.get("x"), dw = f.get("depthwise_kernel"), dy = f.get("dy");
        double[] y = nans(x.length), dx = nans(x.length), ddw = nans(dw.length);
        ConvOps.depthwise3x3Same(Parallel.SERIAL, x, s[0], s[1], s[2], s[3], dw, y);
        ConvOps.depthwise3x3SameBackwardInput(Parallel.SERIAL, dy, s[0], s[1], s[2], s[3], dw, dx);
        ConvOps.depthwise3x3SameBackwardKernel(Parallel.SERIAL, x, s[0], s[1], s[2], s[3], dy, ddw);
        Fixture.assertClose(name + " y", f.get("y"), y, TOLERANCE);
        Fixture.assertClose(name + " dx", f.get("dx"), dx, TOLERANCE);
        Fixture.assertClose(name + " ddepthwise_kernel", f.get("ddepthwise_kernel"), ddw, TOLERANCE);
    }

    @Test
    void pointwise() {
        Fixture f = Fixture.op("pointwise_7");
        int[] s = f.shape("x"), w = f.shape("pointwise_kernel");
        int pixels = s[0] * s[1] * s[2], cin = s[3], cout = w[3];
        double[] x = f.get("x"), pw = f.get("pointwise_kernel"), dy = f.get("dy");
        double[] y = nans(pixels * cout), dx = nans(x.length), dpw = nans(pw.length);
        ConvOps.pointwise(Parallel.SERIAL, x, pixels, cin, pw, cout, y);
        ConvOps.pointwiseBackwardInput(Parallel.SERIAL, dy, pixels, cin, pw, cout, dx);
        ConvOps.pointwiseBackwardKernel(Parallel.SERIAL, x, pixels, cin, dy, cout, dpw);
        Fixture.assertClose("pointwise y", f.get("y"), y, TOLERANCE);
        Fixture.assertClose("pointwise dx", f.get("dx"), dx, TOLERANCE);
        Fixture.assertClose("pointwise dpointwise_kernel", f.get("dpointwise_kernel"), dpw, TOLERANCE);
    }

    @Test
    void batchNormInference() {
        Fixture f = Fixture.op("bn_inference_7");
        int[] s = f.shape("z");
        int c = s[3], rows = s[0] * s[1] * s[2];
        double[] scale = new double[c], shift = new double[c], y = nans(rows * c);
        BatchNormOps.inferenceScaleShift(f.get("gamma"), f.get("beta"), f.get("moving_mean"), f.get("moving_variance"),
                c, BatchNormSpec.KERAS_EPSILON, scale, shift);
        BatchNormOps.affine(f.get("z"), rows, c, scale, shift, null, false, y);
        Fixture.assertClose("bn_inference_7 y", f.get("y"), y, TOLERANCE);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"bn_train_10, false, false", "bn_train_residual_relu_7, true, true", "bn_train_relu_19, true, false"})
    void batchNormTraining(String name, boolean relu, boolean residual) {
        Fixture f = Fixture.op(name);
        int[] s = f.shape("z");
        int c = s[3];
        BatchNormSpec spec = new BatchNormSpec((long) s[0] * s[1] * s[2], c, BatchNormSpec.KERAS_EPSILON, BatchNormSpec.KERAS_MOMENTUM, relu, residual);
        Buffer z = load(f, "z"), gamma = load(f, "gamma"), beta = load(f, "beta"), res = residual ? load(f, "residual") : null;
        Buffer y = poisoned(spec.elements()), mean = poisoned(c), invStd = poisoned(c);
        Buffer movingMean = load(f, "moving_mean"), movingVar = load(f, "moving_variance");
        cpu.batchNormTrain(spec, z, gamma, beta, res, y, mean, invStd, movingMean, movingVar);
        check(f, "y", y);
        check(f, "batch_mean", mean);
        check(f, "batch_inv_std", invStd);
        check(f, "moving_mean_after", movingMean);
        check(f, "moving_variance_after", movingVar);
        Buffer dz = poisoned(spec.elements()), dyMasked = poisoned(spec.elements()), dGamma = poisoned(c), dBeta = poisoned(c);
        cpu.batchNormTrainBackward(spec, z, y, load(f, "dy"), gamma, mean, invStd, dz, dyMasked, dGamma, dBeta);
        check(f, "dz", dz);
        check(f, "dgamma", dGamma);
        check(f, "dbeta", dBeta);
        if (residual) check(f, "dresidual", dyMasked);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"maxpool_same_7", "maxpool_same_10", "maxpool_same_19", "maxpool_add_10"})
    void maxPool(String name) {
        Fixture f = Fixture.op(name);
        int[] s = f.shape("x");
        PoolSpec spec = new PoolSpec(s[0], s[1], s[2], s[3]);
        assertEquals(spec.outH(), f.shape("y")[1], name + ": output height");
        Buffer x = load(f, "x"), y = poisoned(spec.outputElements());
        cpu.maxPoolAdd(spec, x, f.has("residual") ? load(f, "residual") : null, y);
        check(f, "y", y);
        Buffer dx = poisoned(spec.inputElements());
        cpu.maxPoolBackward(spec, x, load(f, "dy"), dx);
        check(f, "dx", dx);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"global_avg_pool_7, AVG", "global_max_pool_7, MAX"})
    void globalPool(String name, Pooling pooling) {
        Fixture f = Fixture.op(name);
        int[] s = f.shape("x");
        int n = s[0], pixels = s[1] * s[2], c = s[3];
        Buffer y = poisoned((long) n * c);
        cpu.head(new HeadSpec(n, s[1], s[2], c, pooling, false, 0), load(f, "x"), null, null, y);
        check(f, "y", y);
        double[] dx = nans(n * pixels * c);
        if (pooling == Pooling.AVG) PoolOps.globalAvgPoolBackward(f.get("dy"), n, pixels, c, dx);
        else PoolOps.globalMaxPoolBackward(f.get("x"), n, pixels, c, f.get("dy"), dx);
        Fixture.assertClose(name + " dx", f.get("dx"), dx, TOLERANCE);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"head_7", "head_3"})
    void headSoftmaxCrossEntropy(String name) {
        Fixture f = Fixture.op(name);
        int[] s = f.shape("x"), k = f.shape("kernel");
        int n = s[0], c = s[3], classes = k[1];
        HeadSpec spec = new HeadSpec(n, s[1], s[2], c, Pooling.AVG, true, classes);
        Buffer x = load(f, "x"), kernel = load(f, "kernel"), bias = load(f, "bias");
        Buffer probs = poisoned((long) n * classes), loss = poisoned(n);
        Buffer dx = poisoned((long) n * s[1] * s[2] * c), dKernel = poisoned((long) c * classes), dBias = poisoned(classes);
        cpu.headTrain(spec, x, kernel, bias, load(f, "labels"), probs, loss, dx, dKernel, dBias, 1f);
        check(f, "probs", probs);
        check(f, "loss", loss);
        double mean = Arrays.stream(cpu.doubles(loss), 0, n).sum() / n;
        Fixture.assertClose(name + " loss_mean", f.get("loss_mean"), new double[]{mean}, TOLERANCE);
        check(f, "dx", dx);
        check(f, "dkernel", dKernel);
        check(f, "dbias", dBias);
        Buffer inferenceProbs = poisoned((long) n * classes);
        cpu.head(spec, x, kernel, bias, inferenceProbs);
        check(f, "probs", inferenceProbs);
    }

    @Test
    void sgdMomentumStepMatchesTorchOptimSgd() {
        Fixture f = Fixture.op("sgd");
        double[] hyper = f.get("hyper"); // (lr, momentum, weight_decay), float32 values
        Buffer param = load(f, "param"), velocity = load(f, "velocity");
        cpu.sgdUpdate(param, load(f, "grad"), velocity, param.elements(), (float) hyper[0], (float) hyper[1], (float) hyper[2]);
        check(f, "param_after", param);
        check(f, "velocity_after", velocity);
    }

    // ---------------------------------------------------------------- helpers

    private void check(Fixture f, String tensor, Buffer actual) {
        Fixture.assertClose(f.dir().getFileName() + " " + tensor, f.get(tensor), cpu.doubles(actual), TOLERANCE);
    }

    /** A buffer holding the fixture tensor exactly (float64, no float32 rounding). */
    private Buffer load(Fixture f, String tensor) { return copy(f.get(tensor)); }

    private Buffer copy(double[] values) {
        Buffer b = cpu.allocate(values.length);
        System.arraycopy(values, 0, cpu.doubles(b), 0, values.length);
        return b;
    }

    private Buffer poisoned(long elements) {
        Buffer b = cpu.allocate(elements);
        Arrays.fill(cpu.doubles(b), Double.NaN);
        return b;
    }

    private static double[] nans(int n) {
        double[] a = new double[n];
        Arrays.fill(a, Double.NaN);
        return a;
    }
}
