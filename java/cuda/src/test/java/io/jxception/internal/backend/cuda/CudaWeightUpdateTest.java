package io.jxception.internal.backend.cuda;

import io.jxception.backend.Precision;
import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.BufferViews;
import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.backend.PerTensorWeightUpdate;
import io.jxception.internal.backend.WeightUpdate;
import io.jxception.internal.backend.WeightUpdate.Weight;
import io.jxception.internal.backend.cpu.CpuBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link CudaWeightUpdate}: the whole SGD step and the whole unscale in one launch each, bit for bit
 * what the per-tensor kernels ({@link CudaBackend#sgdUpdate}, {@link CudaBackend#unscaleGradient})
 * make of the same inputs on the same device, close to the CPU reference, and the same when replayed
 * from a recorded CUDA graph. Sizes straddle the chunk size (8192) and 32768; some weights are frozen
 * (no velocity: unscaled, never stepped), some decay.
 */
@Tag("gpu")
class CudaWeightUpdateTest {
    static final int C = MultiTensorPlan.CHUNK;
    static final long[] COUNTS = {1, 3, 32_767, 32_768, 32_769, 100_003, C - 1, C + 1};
    static final boolean[] STEPPED = {true, false, true, true, false, true, true, true};
    static final boolean[] DECAYS = {true, true, false, true, true, false, true, false};
    static final float LR = 0.05f, MOMENTUM = 0.9f, DECAY = 1e-3f;

    private static CudaBackend gpu;
    private static CpuBackend cpu;
    private final long seed = System.nanoTime();
    private final Random rnd = new Random(seed);

    @BeforeAll
    static void open() {
        CudaTestDevice.assumeAvailable();
        gpu = (CudaBackend) new CudaBackendProvider().open(0, Precision.FP32, CudaBackend.Options.DEFAULT.withSyncEachLaunch(true));
        cpu = new CpuBackend(Math.max(1, Runtime.getRuntime().availableProcessors()));
    }

    @AfterAll
    static void close() {
        if (gpu != null) gpu.close();
        if (cpu != null) cpu.close();
    }

    /** Host values of every weight: params, velocities (null where frozen) and one gradient per step. */
    final class Values {
        final float[][] param = new float[COUNTS.length][], velocity = new float[COUNTS.length][];

        Values() {
            for (int w = 0; w < COUNTS.length; w++) {
                param[w] = normal(COUNTS[w], 1);
                velocity[w] = STEPPED[w] ? normal(COUNTS[w], 0.1) : null;
            }
        }
    }

    float[][] gradients(double scale) {
        float[][] g = new float[COUNTS.length][];
        for (int w = 0; w < COUNTS.length; w++) g[w] = normal(COUNTS[w], scale);
        return g;
    }

    float[] normal(long n, double scale) {
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rnd.nextGaussian() * scale);
        return v;
    }

    /** The weights on one backend; on CUDA optionally as views of one block (addresses with byte offsets). */
    static final class Weights implements AutoCloseable {
        final KernelBackend backend;
        final Buffer[] param = new Buffer[COUNTS.length], grad = new Buffer[COUNTS.length], velocity = new Buffer[COUNTS.length];
        final List<Weight> list = new ArrayList<>();
        private final List<AutoCloseable> owned = new ArrayList<>();

        Weights(KernelBackend backend, Values v, boolean views) {
            this.backend = backend;
            Buffer[] all;
            if (views) {
                long[] sizes = new long[3 * COUNTS.length];
                for (int w = 0; w < COUNTS.length; w++) sizes[3 * w] = sizes[3 * w + 1] = sizes[3 * w + 2] = COUNTS[w];
                BufferViews.Block block = ((BufferViews) backend).allocateBlock(sizes);
                owned.add(block);
                all = block.views();
            } else {
                all = new Buffer[3 * COUNTS.length];
                for (int i = 0; i < all.length; i++) {
                    all[i] = backend.allocate(COUNTS[i / 3]);
                    owned.add(all[i]);
                }
            }
            for (int w = 0; w < COUNTS.length; w++) {
                param[w] = all[3 * w];
                grad[w] = all[3 * w + 1];
                backend.upload(v.param[w], param[w]);
                if (STEPPED[w]) {
                    velocity[w] = all[3 * w + 2];
                    backend.upload(v.velocity[w], velocity[w]);
                }
                list.add(new Weight(param[w], grad[w], velocity[w], COUNTS[w], DECAYS[w]));
            }
        }

        void uploadGradients(float[][] g) {
            for (int w = 0; w < COUNTS.length; w++) backend.upload(g[w], grad[w]);
        }

        float[] values(Buffer b) {
            float[] out = new float[Math.toIntExact(b.elements())];
            backend.download(b, out);
            return out;
        }

        @Override public void close() {
            for (AutoCloseable c : owned) {
                try {
                    c.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    void assertBitwise(String what, Weights want, Weights got, Buffer[] wantBufs, Buffer[] gotBufs) {
        for (int w = 0; w < COUNTS.length; w++) {
            if (wantBufs[w] == null) continue;
            assertBitwise(what + " of weight " + w + " (" + COUNTS[w] + " values)", want.values(wantBufs[w]), got.values(gotBufs[w]));
        }
    }

    void assertBitwise(String what, float[] want, float[] got) {
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToIntBits(want[i]) != Float.floatToIntBits(got[i])) {
                fail(what + ": element " + i + " is " + got[i] + ", per-tensor " + want[i] + " (seed " + seed + ")");
            }
        }
    }

    float flag(Buffer overflow) {
        float[] f = new float[1];
        gpu.download(overflow, f);
        return f[0];
    }

    @Test
    void sgdIsOneLaunchAndBitwiseThePerTensorKernels() {
        Values v = new Values();
        try (Weights multi = new Weights(gpu, v, true); Weights single = new Weights(gpu, v, false); Weights ref = new Weights(cpu, v, false);
             WeightUpdate upd = gpu.weightUpdate(multi.list)) {
            assertInstanceOf(CudaWeightUpdate.class, upd);
            assertEquals(multi.list, upd.weights());
            WeightUpdate perTensor = new PerTensorWeightUpdate(gpu, single.list), reference = cpu.weightUpdate(ref.list);
            for (int step = 0; step < 3; step++) {
                float[][] g = gradients(1);
                multi.uploadGradients(g);
                single.uploadGradients(g);
                ref.uploadGradients(g);
                long before = gpu.launchCount();
                upd.sgd(LR, MOMENTUM, DECAY);
                assertEquals(before + 1, gpu.launchCount(), "one launch for every weight");
                perTensor.sgd(LR, MOMENTUM, DECAY);
                reference.sgd(LR, MOMENTUM, DECAY);
            }
            assertBitwise("param", single, multi, single.param, multi.param);
            assertBitwise("velocity", single, multi, single.velocity, multi.velocity);
            for (int w = 0; w < COUNTS.length; w++) {
                if (!STEPPED[w]) {
                    assertBitwise("frozen param of weight " + w, v.param[w], multi.values(multi.param[w]));
                    continue;
                }
                assertClose("param of weight " + w, cpu.doubles(ref.param[w]), multi.values(multi.param[w]));
                assertClose("velocity of weight " + w, cpu.doubles(ref.velocity[w]), multi.values(multi.velocity[w]));
            }
        }
    }

    /** |cuda - ref| <= 1e-5 (1 + |ref|) everywhere: fp32 FMAs against the reference's float64 steps rounded to fp32. */
    void assertClose(String what, double[] want, float[] got) {
        for (int i = 0; i < got.length; i++) {
            if (!(Math.abs(got[i] - want[i]) <= 1e-5 * (1 + Math.abs(want[i])))) {
                fail(what + ": element " + i + " is " + got[i] + ", reference " + want[i] + " (seed " + seed + ")");
            }
        }
    }

    /**
     * Unscale: the gradients bitwise the per-tensor kernel's, the flag 0 while every result is finite and
     * 1 when exactly one value is Inf or NaN: in the last chunk (one value) of a frozen weight, at the very
     * last value of the largest one, or made Inf by the factor itself.
     */
    @Test
    void unscaleIsOneLaunchAndFlagsOneInfOrNaNAnywhere() {
        Values v = new Values();
        try (Weights multi = new Weights(gpu, v, false); Weights single = new Weights(gpu, v, true);
             Buffer flagMulti = gpu.allocate(1); Buffer flagSingle = gpu.allocate(1);
             WeightUpdate upd = gpu.weightUpdate(multi.list)) {
            WeightUpdate perTensor = new PerTensorWeightUpdate(gpu, single.list);
            record Poison(int weight, long at, float value, float factor) {}
            List<Poison> cases = List.of(
                    new Poison(-1, 0, 0f, 0x1p-16f), new Poison(-1, 0, 0f, 0.37f),
                    new Poison(4, 32_768, Float.POSITIVE_INFINITY, 0x1p-16f),   // 32769 values: the last chunk holds one; frozen weight
                    new Poison(5, 100_002, Float.NaN, 0x1p-16f),
                    new Poison(0, 0, Float.NEGATIVE_INFINITY, 0.37f),
                    new Poison(7, C, 3e38f, 2f));                                // finite, Inf once scaled
            for (Poison p : cases) {
                String what = p.value() + " at " + p.at() + " of weight " + p.weight() + ", factor " + p.factor() + " (seed " + seed + ")";
                float[][] g = gradients(3e4);
                if (p.weight() >= 0) g[p.weight()][(int) p.at()] = p.value();
                multi.uploadGradients(g);
                single.uploadGradients(g);
                gpu.upload(new float[]{0f}, flagMulti);
                gpu.upload(new float[]{0f}, flagSingle);
                long before = gpu.launchCount();
                upd.unscale(p.factor(), flagMulti);
                assertEquals(before + 1, gpu.launchCount(), "one launch for every gradient, " + what);
                perTensor.unscale(p.factor(), flagSingle);
                assertBitwise("grad, " + what, single, multi, single.grad, multi.grad);
                float want = p.weight() >= 0 ? 1f : 0f;
                assertEquals(want, flag(flagSingle), "per-tensor flag, " + what);
                assertEquals(want, flag(flagMulti), "multi-tensor flag, " + what);
                if (want == 1f) {
                    multi.uploadGradients(gradients(1));
                    upd.unscale(0.5f, flagMulti);
                    assertEquals(1f, flag(flagMulti), "the flag stays set through a clean unscale, " + what);
                }
            }
        }
    }

    /** unscale then sgd recorded as a graph (two launches) and replayed: the same bits as running them eagerly. */
    @Test
    void recordedGraphReplaysTheSameStepAsEagerCalls() {
        Values v = new Values();
        float[][] g = gradients(3e4);
        try (Weights eager = new Weights(gpu, v, false); Weights replayed = new Weights(gpu, v, true);
             Buffer flagEager = gpu.allocate(1); Buffer flagReplayed = gpu.allocate(1);
             WeightUpdate updEager = gpu.weightUpdate(eager.list); WeightUpdate updReplayed = gpu.weightUpdate(replayed.list)) {
            gpu.upload(new float[]{0f}, flagEager);
            gpu.upload(new float[]{0f}, flagReplayed);
            try (CudaGraph graph = gpu.record(() -> {
                updReplayed.unscale(0x1p-15f, flagReplayed);
                updReplayed.sgd(LR, MOMENTUM, DECAY);
            })) {
                assertEquals(2, graph.launches(), "the whole optimizer step: two launches");
                for (int round = 0; round < 2; round++) {
                    eager.uploadGradients(g);
                    replayed.uploadGradients(g);
                    updEager.unscale(0x1p-15f, flagEager);
                    updEager.sgd(LR, MOMENTUM, DECAY);
                    long before = gpu.launchCount();
                    graph.replay();
                    assertEquals(before + 1, gpu.launchCount(), "a replay counts as one launch");
                    assertBitwise("grad, round " + round, eager, replayed, eager.grad, replayed.grad);
                    assertBitwise("param, round " + round, eager, replayed, eager.param, replayed.param);
                    assertBitwise("velocity, round " + round, eager, replayed, eager.velocity, replayed.velocity);
                    assertEquals(0f, flag(flagReplayed));
                }
            }
            // planning uploads the table: not while capturing
            gpu.record(() -> {
                assertThrows(IllegalStateException.class, () -> gpu.weightUpdate(eager.list));
                updEager.sgd(LR, MOMENTUM, DECAY);   // a launch, so the graph is not empty (it is never replayed)
            }).close();
        }
    }

    @Test
    void refusesForeignClosedOrNonFp32BuffersAndFreesItsTable() {
        Values v = new Values();
        try (Weights w = new Weights(gpu, v, false); Buffer empty = gpu.allocate(COUNTS[2]); Buffer foreign = cpu.allocate(COUNTS[0]);
             Buffer flag = gpu.allocate(1)) {
            gpu.upload(new float[]{0f}, flag);
            int live = gpu.liveAllocations();
            WeightUpdate upd = gpu.weightUpdate(w.list);
            assertEquals(live + 1, gpu.liveAllocations(), "one device buffer for the table");
            // the gradients were never written: refused, nothing launched
            long before = gpu.launchCount();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> upd.sgd(LR, MOMENTUM, DECAY));
            assertTrue(e.getMessage().contains("grad") && e.getMessage().contains("EMPTY"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> upd.unscale(1f, flag));
            assertEquals(before, gpu.launchCount());
            upd.close();
            assertEquals(live, gpu.liveAllocations(), "close frees the table");
            assertThrows(IllegalStateException.class, () -> upd.sgd(LR, MOMENTUM, DECAY));

            List<Weight> withForeign = new ArrayList<>(w.list);
            withForeign.set(0, new Weight(foreign, w.grad[0], w.velocity[0], COUNTS[0], true));
            assertThrows(IllegalArgumentException.class, () -> gpu.weightUpdate(withForeign));
            List<Weight> sharedGrad = new ArrayList<>(w.list);
            sharedGrad.set(3, new Weight(w.param[3], w.grad[2], w.velocity[3], COUNTS[2], true));
            assertThrows(IllegalArgumentException.class, () -> gpu.weightUpdate(sharedGrad), "two weights, one gradient");

            List<Weight> closing = new ArrayList<>(w.list);
            closing.set(2, new Weight(w.param[2], empty, w.velocity[2], COUNTS[2], false));
            w.uploadGradients(gradients(1));
            gpu.upload(new float[(int) COUNTS[2]], empty);
            try (WeightUpdate u = gpu.weightUpdate(closing)) {
                empty.close();
                assertThrows(IllegalArgumentException.class, () -> u.sgd(LR, MOMENTUM, DECAY), "a closed buffer is refused, not written");
            }

            List<Weight> frozen = new ArrayList<>();
            for (int i = 0; i < COUNTS.length; i++) frozen.add(new Weight(w.param[i], w.grad[i], null, COUNTS[i], DECAYS[i]));
            try (WeightUpdate u = gpu.weightUpdate(frozen)) {
                long b = gpu.launchCount();
                u.sgd(LR, MOMENTUM, DECAY);
                assertEquals(b, gpu.launchCount(), "nothing stepped: no launch");
                u.unscale(1f, flag);
                assertEquals(b + 1, gpu.launchCount());
            }
        }
    }
}
