package io.jxception.internal.backend;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checks a backend's split batch norm ({@link KernelBackend#batchNormSums} ... {@link
 * KernelBackend#batchNormBackwardApply}) as data-parallel training uses it: the rows of one batch
 * are cut into parts (the processes), each part's sums are added on the host (the allreduce), and
 * every part is normalised with the statistics of all rows. The result must be the float64
 * reference's fused {@link KernelBackend#batchNormTrain} / {@link KernelBackend#batchNormTrainBackward}
 * over all rows at once, within {@code bound} of each tensor's largest value.
 *
 * <p>Shared by the core tests (cpu, OpenCL) and the CUDA module's gpu-tagged test.
 */
public final class SplitBatchNormCheck {
    /** One case: rows in parts (one per process), channels, ReLU after the add, a residual input. */
    public record Case(int[] partRows, int channels, boolean relu, boolean residual) {
        public long rows() {
            long r = 0;
            for (int p : partRows) r += p;
            return r;
        }

        BatchNormSpec spec(long rows) {
            return new BatchNormSpec(rows, channels, BatchNormSpec.KERAS_EPSILON, BatchNormSpec.KERAS_MOMENTUM, relu, residual);
        }

        @Override public String toString() {
            return "parts " + java.util.Arrays.toString(partRows) + " x " + channels + " channels" + (relu ? ", relu" : "") + (residual ? ", residual" : "");
        }
    }

    /** Cases that cover vector widths (channels not multiples of 4 or 16), one part, equal and unequal parts, every epilogue. */
    public static List<Case> cases() {
        return List.of(
                new Case(new int[]{60}, 16, false, false),
                new Case(new int[]{49, 49}, 19, true, true),
                new Case(new int[]{32, 32}, 64, true, false),
                new Case(new int[]{40, 7, 58}, 24, false, true),
                new Case(new int[]{300, 300}, 7, true, false));
    }

    /** Worst relative differences of one case, by tensor, for the report. */
    public record Result(Case c, double y, double mean, double invStd, double movingMean, double movingVar,
                         double dz, double dyMasked, double dGamma, double dBeta) {
        double worst() { return Math.max(Math.max(Math.max(y, mean), Math.max(invStd, movingMean)), Math.max(Math.max(movingVar, dz), Math.max(dyMasked, Math.max(dGamma, dBeta)))); }
    }

    private SplitBatchNormCheck() {}

    /**
     * Runs {@code c} on {@code device} (split) and on {@code reference} (the cpu backend, fused), and
     * asserts that every output is within {@code bound} of the reference relative to its largest value.
     */
    public static Result check(KernelBackend device, KernelBackend reference, Case c, double bound) {
        int ch = c.channels();
        long rows = c.rows();
        int total = Math.toIntExact(rows * ch);
        Random random = new Random(31L * total + ch);
        float[] z = new float[total], res = new float[total], dy = new float[total];
        for (int i = 0; i < total; i++) {
            z[i] = (float) (random.nextGaussian() * 2 + 0.5 * (i % ch) - 3); // each channel shifted: the mean matters
            res[i] = (float) random.nextGaussian();
            dy[i] = (float) random.nextGaussian();
        }
        float[] gamma = new float[ch], beta = new float[ch], mm = new float[ch], mv = new float[ch];
        for (int i = 0; i < ch; i++) {
            gamma[i] = (float) (0.5 + random.nextDouble());
            beta[i] = (float) (random.nextGaussian() * 0.3);
            mm[i] = (float) (random.nextGaussian() * 0.1);
            mv[i] = (float) (0.5 + random.nextDouble());
        }

        // ---- the reference: fused, all rows at once
        BatchNormSpec all = c.spec(rows);
        Buffer rz = up(reference, z), rg = up(reference, gamma), rb = up(reference, beta), rr = c.residual() ? up(reference, res) : null;
        Buffer ry = reference.allocate(total), rMean = reference.allocate(ch), rInv = reference.allocate(ch), rmm = up(reference, mm), rmv = up(reference, mv);
        reference.batchNormTrain(all, rz, rg, rb, rr, ry, rMean, rInv, rmm, rmv);
        float[] yRef = down(reference, ry, total), meanRef = down(reference, rMean, ch), invRef = down(reference, rInv, ch);
        float[] mmRef = down(reference, rmm, ch), mvRef = down(reference, rmv, ch);
        // the backward of both sides starts from the same float forward outputs (a ReLU mask never flips between them)
        Buffer by = up(reference, yRef), bMean = up(reference, meanRef), bInv = up(reference, invRef), rdy = up(reference, dy);
        Buffer rdz = reference.allocate(total), rdym = c.residual() ? reference.allocate(total) : null, rdg = reference.allocate(ch), rdb = reference.allocate(ch);
        reference.batchNormTrainBackward(all, rz, by, rdy, rg, bMean, bInv, rdz, rdym, rdg, rdb);
        float[] dzRef = down(reference, rdz, total), dymRef = rdym == null ? null : down(reference, rdym, total);
        float[] dgRef = down(reference, rdg, ch), dbRef = down(reference, rdb, ch);

        // ---- the device: one part per process, sums added on the host
        int parts = c.partRows().length;
        List<Buffer> zs = new ArrayList<>(), ys = new ArrayList<>(), means = new ArrayList<>(), invs = new ArrayList<>(), mms = new ArrayList<>(), mvs = new ArrayList<>();
        Buffer dg = up(device, gamma), db = up(device, beta);
        double[] sum = new double[ch], part = new double[ch];
        int from = 0;
        for (int p = 0; p < parts; p++) {
            int n = c.partRows()[p] * ch;
            zs.add(up(device, slice(z, from, n)));
            from += n;
            device.batchNormSums(c.spec(c.partRows()[p]), zs.get(p), null, part);
            for (int i = 0; i < ch; i++) sum[i] += part[i];
        }
        double[] mean = new double[ch], variance = new double[ch];
        for (int i = 0; i < ch; i++) mean[i] = sum[i] / rows;
        java.util.Arrays.fill(sum, 0);
        for (int p = 0; p < parts; p++) {
            device.batchNormSums(c.spec(c.partRows()[p]), zs.get(p), mean, part);
            for (int i = 0; i < ch; i++) sum[i] += part[i];
        }
        for (int i = 0; i < ch; i++) variance[i] = sum[i] / rows;
        float[] y = new float[total];
        from = 0;
        for (int p = 0; p < parts; p++) {
            int n = c.partRows()[p] * ch;
            BatchNormSpec spec = c.spec(c.partRows()[p]);
            Buffer yp = device.allocate(n), mp = device.allocate(ch), ip = device.allocate(ch), mmp = up(device, mm), mvp = up(device, mv);
            Buffer rp = c.residual() ? up(device, slice(res, from, n)) : null;
            device.batchNormApply(spec, zs.get(p), mean, variance, dg, db, rp, yp, mp, ip, mmp, mvp);
            System.arraycopy(down(device, yp, n), 0, y, from, n);
            ys.add(yp);
            means.add(mp);
            invs.add(ip);
            mms.add(mmp);
            mvs.add(mvp);
            from += n;
        }
        double dMean = 0, dInv = 0, dMm = 0, dMv = 0;
        for (int p = 0; p < parts; p++) { // every process ends with the same statistics
            dMean = Math.max(dMean, relative(meanRef, down(device, means.get(p), ch)));
            dInv = Math.max(dInv, relative(invRef, down(device, invs.get(p), ch)));
            dMm = Math.max(dMm, relative(mmRef, down(device, mms.get(p), ch)));
            dMv = Math.max(dMv, relative(mvRef, down(device, mvs.get(p), ch)));
        }
        double dY = relative(yRef, y);

        // backward, from the reference's float forward outputs
        double[] gSum = new double[ch], bSum = new double[ch], gPart = new double[ch], bPart = new double[ch];
        List<Buffer> dys = new ArrayList<>(), yIn = new ArrayList<>();
        Buffer meanIn = up(device, meanRef), invIn = up(device, invRef);
        from = 0;
        for (int p = 0; p < parts; p++) {
            int n = c.partRows()[p] * ch;
            dys.add(up(device, slice(dy, from, n)));
            yIn.add(up(device, slice(yRef, from, n)));
            device.batchNormBackwardSums(c.spec(c.partRows()[p]), zs.get(p), yIn.get(p), dys.get(p), meanIn, invIn, gPart, bPart);
            for (int i = 0; i < ch; i++) {
                gSum[i] += gPart[i];
                bSum[i] += bPart[i];
            }
            from += n;
        }
        float[] dz = new float[total], dym = c.residual() ? new float[total] : null;
        double dDg = 0, dDb = 0;
        from = 0;
        for (int p = 0; p < parts; p++) {
            int n = c.partRows()[p] * ch;
            Buffer dzp = device.allocate(n), dymp = c.residual() ? device.allocate(n) : null, dgp = device.allocate(ch), dbp = device.allocate(ch);
            device.batchNormBackwardApply(c.spec(c.partRows()[p]), rows, zs.get(p), yIn.get(p), dys.get(p), dg, meanIn, invIn, gSum, bSum,
                    dzp, dymp, dgp, dbp);
            System.arraycopy(down(device, dzp, n), 0, dz, from, n);
            if (dym != null) System.arraycopy(down(device, dymp, n), 0, dym, from, n);
            dDg = Math.max(dDg, relative(dgRef, down(device, dgp, ch)));
            dDb = Math.max(dDb, relative(dbRef, down(device, dbp, ch)));
            from += n;
        }
        Result r = new Result(c, dY, dMean, dInv, dMm, dMv, relative(dzRef, dz), dym == null ? 0 : relative(dymRef, dym), dDg, dDb);
        assertTrue(r.worst() <= bound, device.name() + " split batch norm over " + c + " differs from the fused float64 reference by more than "
                + bound + " relative: " + r);
        return r;
    }

    /** max |a − b| / max |a| (a the reference). */
    static double relative(float[] want, float[] got) {
        double scale = 1e-30, diff = 0;
        for (int i = 0; i < want.length; i++) {
            scale = Math.max(scale, Math.abs(want[i]));
            diff = Math.max(diff, Math.abs((double) want[i] - got[i]));
        }
        return diff / scale;
    }

    private static float[] slice(float[] a, int from, int count) { return java.util.Arrays.copyOfRange(a, from, from + count); }

    private static Buffer up(KernelBackend b, float[] values) {
        Buffer buffer = b.allocate(values.length);
        b.upload(values, buffer);
        return buffer;
    }

    private static float[] down(KernelBackend b, Buffer buffer, int count) {
        float[] out = new float[count];
        b.download(buffer, 0, out, 0, count);
        return out;
    }
}
