package io.jxception.internal.exec;

import io.jxception.internal.backend.BatchNormSpec;
import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.DeviceEvents;
import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.backend.PoolSpec;
import io.jxception.internal.backend.WeightUpdate;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Where the time of a sequence of backend ops goes (a training step, a forward): {@link #wrap} returns
 * the backend with every op timed on its own and summed per op key, e.g. {@code convBackward SEPARABLE3X3_SAME
 * 19x19 728->728}. Ops that enqueue device work are timed by the device's own clock where the backend has
 * one ({@link DeviceEvents}: an event before and after each op, then a wait), else by the host clock
 * around the op and a synchronize; transfers and allocation by the host clock. The optimizer step
 * ({@link WeightUpdate}, all weights at once) is one op: {@code sgdUpdate N weights} and
 * {@code unscaleGradient N weights}. Every op therefore waits
 * for the device: a profile says what each op costs alone, not what the pipelined sequence takes.
 *
 * <p>Not thread-safe, like the backends; the wrapped backend behaves exactly as the original (same
 * calls, same arguments, same order). Closing the wrapper closes the backend.
 */
public final class OpProfile {
    /** Calls and seconds of one op key, and the {@link OpCost} of those calls summed (zero for host ops). */
    public record Entry(String key, long calls, double seconds, double bytes, double flops) {}

    /**
     * A card's rates for the floor columns of {@link #table(int, int, Peaks)}: bytes per second of its
     * memory and floating-point operations per second in the precision profiled, and where they come from.
     */
    public record Peaks(double bytesPerSecond, double flopsPerSecond, String source) {
        public Peaks {
            if (!(bytesPerSecond > 0) || !(flopsPerSecond > 0)) throw new IllegalArgumentException("peaks must be positive: " + bytesPerSecond + " B/s, " + flopsPerSecond + " FLOP/s");
        }
    }

    private final Map<String, double[]> byKey = new LinkedHashMap<>();   // key -> {calls, seconds, bytes, flops} (OpCost summed over the calls)

    /** Backend methods that only enqueue device work: timed by the device clock where there is one. */
    private static final Set<String> DEVICE_OPS = Set.of("conv", "convUint8", "batchNormTrain", "maxPoolAdd", "head", "headTrain",
            "batchNormTrainBackward", "convBackward", "maxPoolBackward", "batchNormSums", "batchNormApply", "batchNormBackwardSums",
            "batchNormBackwardApply", "addInPlace", "sgdUpdate", "unscaleGradient");
    /** Host-side methods worth a line (transfers, waits); identity and bookkeeping calls are not timed. */
    private static final Set<String> HOST_OPS = Set.of("allocate", "allocateActivations", "upload", "uploadUint8", "download", "synchronize");

    /** {@code backend} with every op timed into this profile. */
    public KernelBackend wrap(KernelBackend backend) {
        InvocationHandler h = (proxy, method, args) -> invoke(backend, method, args);
        return (KernelBackend) Proxy.newProxyInstance(KernelBackend.class.getClassLoader(), new Class<?>[]{KernelBackend.class}, h);
    }

    private Object invoke(KernelBackend backend, Method method, Object[] args) throws Throwable {
        String name = method.getName();
        if (name.equals("weightUpdate")) return new TimedWeightUpdate(backend, (WeightUpdate) call(backend, method, args));
        boolean device = DEVICE_OPS.contains(name), host = HOST_OPS.contains(name);
        if (!device && !host) return call(backend, method, args);
        OpCost cost = device ? OpCost.of(name, args, activationBytes(backend)) : null;
        return timed(backend, key(name, args), device, cost, () -> call(backend, method, args));
    }

    /** Bytes per activation element the backend stores: 2 in BF16/FP16, 4 in FP32/TF32. */
    private static int activationBytes(KernelBackend backend) {
        return switch (backend.precision()) {
            case BF16, FP16 -> 2;
            case FP32, TF32 -> 4;
        };
    }

    private interface Call {
        Object run() throws Throwable;
    }

    /** Runs {@code call}, adding its time to {@code key}: by the device clock where {@code device} and the backend has one. */
    private Object timed(KernelBackend backend, String key, boolean device, OpCost cost, Call call) throws Throwable {
        Object[] result = new Object[1];
        double seconds;
        if (device && backend instanceof DeviceEvents events) {
            Throwable[] failure = new Throwable[1];
            seconds = events.elapsedSeconds(() -> {
                try {
                    result[0] = call.run();
                } catch (Throwable t) {
                    failure[0] = t;
                }
            });
            if (failure[0] != null) throw failure[0];
        } else {
            long t0 = System.nanoTime();
            result[0] = call.run();
            if (device) backend.synchronize();
            seconds = (System.nanoTime() - t0) * 1e-9;
        }
        double[] s = byKey.computeIfAbsent(key, k -> new double[4]);
        s[0]++;
        s[1] += seconds;
        if (cost != null) {
            s[2] += cost.bytes();
            s[3] += cost.flops();
        }
        return result[0];
    }

    /** The backend's own optimizer plan, each call timed as one device op. */
    private final class TimedWeightUpdate implements WeightUpdate {
        private final KernelBackend backend;
        private final WeightUpdate inner;

        TimedWeightUpdate(KernelBackend backend, WeightUpdate inner) {
            this.backend = backend;
            this.inner = inner;
        }

        @Override public List<Weight> weights() { return inner.weights(); }

        @Override public void sgd(float lr, float momentum, float weightDecay) {
            long n = inner.weights().stream().filter(Weight::stepped).count();
            long params = inner.weights().stream().filter(Weight::stepped).mapToLong(Weight::count).sum();
            run("sgdUpdate " + n + " weights", OpCost.sgd(params), () -> { inner.sgd(lr, momentum, weightDecay); return null; });
        }

        @Override public void unscale(float factor, Buffer overflow) {
            long params = inner.weights().stream().mapToLong(Weight::count).sum();
            run("unscaleGradient " + inner.weights().size() + " weights", OpCost.unscale(params), () -> { inner.unscale(factor, overflow); return null; });
        }

        private void run(String key, OpCost cost, Call call) {
            try {
                timed(backend, key, true, cost, call);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);   // WeightUpdate's methods throw no checked exception
            }
        }

        @Override public void close() { inner.close(); }
    }

    private static Object call(KernelBackend backend, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(backend, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** The op key: the method, and for convolutions, pools and batch norm the shape that sets their cost. */
    static String key(String method, Object[] args) {
        Object first = args == null || args.length == 0 ? null : args[0];
        if (first instanceof ConvSpec s) {
            return String.format(Locale.ROOT, "%s %s %dx%d %d->%d", method, s.kind(), s.h(), s.w(), s.cin(), s.cout());
        }
        if (first instanceof PoolSpec p) return String.format(Locale.ROOT, "%s %dx%d %d", method, p.h(), p.w(), p.c());
        if (first instanceof BatchNormSpec b) return String.format(Locale.ROOT, "%s %d x %d", method, b.rows(), b.channels());
        return method;
    }

    /** Every key in first-call order. */
    public List<Entry> entries() {
        List<Entry> out = new ArrayList<>();
        byKey.forEach((k, v) -> out.add(new Entry(k, (long) v[0], v[1], v[2], v[3])));
        return out;
    }

    /** The method an op key starts with: "convBackward" of "convBackward SEPARABLE3X3_SAME 19x19 728->728". */
    private static String method(String key) { return key.split(" ")[0]; }

    /** Per method (conv, convBackward, batchNormTrain, ...): the keys of each summed. */
    public List<Entry> byMethod() {
        Map<String, double[]> m = new LinkedHashMap<>();
        byKey.forEach((k, v) -> {
            double[] s = m.computeIfAbsent(method(k), x -> new double[4]);
            for (int i = 0; i < 4; i++) s[i] += v[i];
        });
        List<Entry> out = new ArrayList<>();
        m.forEach((k, v) -> out.add(new Entry(k, (long) v[0], v[1], v[2], v[3])));
        return out;
    }

    /** Forgets everything timed so far (after warm-up steps). */
    public void reset() { byKey.clear(); }

    /**
     * A report of the profile over {@code steps} repetitions: per method then the {@code top} most
     * expensive keys, each with calls per step, ms per step and its share of the total.
     */
    public String table(int steps, int top) { return table(steps, top, null); }

    /**
     * {@link #table(int, int)} with, where {@code peaks} is given, each line's floor: its {@link OpCost}
     * per step in GB and GFLOP, the time those take at the card's rates (the larger of bytes / bandwidth
     * and FLOPs / peak) and that floor as a share of the measured time. An op near 100% has nothing left
     * to win; one at a few percent is where a step's time goes.
     */
    public String table(int steps, int top, Peaks peaks) {
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1");
        double total = byKey.values().stream().mapToDouble(v -> v[1]).sum();
        // floors per key, summed per method and overall (a sum of maxima: each op is bound by its own limit)
        Map<String, Double> floor = new LinkedHashMap<>(), methodFloor = new LinkedHashMap<>();
        double totalFloor = 0;
        if (peaks != null) {
            for (Entry e : entries()) {
                double f = new OpCost(e.bytes(), e.flops()).floorSeconds(peaks.bytesPerSecond(), peaks.flopsPerSecond());
                floor.put(e.key(), f);
                methodFloor.merge(method(e.key()), f, Double::sum);
                totalFloor += f;
            }
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-58s %8s %10s %6s", "op (per step)", "calls", "ms", "share"));
        if (peaks != null) sb.append(String.format(Locale.ROOT, " %9s %9s %10s %8s", "GB", "GFLOP", "floor ms", "of floor"));
        sb.append('\n');
        for (Entry e : byMethod()) sb.append(line(e, steps, total, peaks, methodFloor.getOrDefault(e.key(), 0.0)));
        Entry all = new Entry("total", 0, total, byKey.values().stream().mapToDouble(v -> v[2]).sum(), byKey.values().stream().mapToDouble(v -> v[3]).sum());
        sb.append(line(all, steps, total, peaks, totalFloor));
        if (peaks != null) {
            sb.append(String.format(Locale.ROOT, "-- floors at %.2f TB/s and %.0f TFLOP/s (%s): every tensor read and written once, the ops' own math%n",
                    peaks.bytesPerSecond() / 1e12, peaks.flopsPerSecond() / 1e12, peaks.source()));
        }
        sb.append("-- the ").append(top).append(" most expensive op shapes\n");
        entries().stream().sorted((a, b) -> Double.compare(b.seconds(), a.seconds())).limit(top)
                .forEach(e -> sb.append(line(e, steps, total, peaks, floor.getOrDefault(e.key(), 0.0))));
        return sb.toString();
    }

    private static String line(Entry e, int steps, double total, Peaks peaks, double floorSeconds) {
        String calls = e.calls() > 0 ? String.format(Locale.ROOT, "%8.1f", (double) e.calls() / steps) : String.format(Locale.ROOT, "%8s", "");
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-58s %s %10.3f %5.1f%%", e.key(), calls, e.seconds() * 1e3 / steps,
                total > 0 ? 100 * e.seconds() / total : 0));
        if (peaks != null) {
            if (floorSeconds > 0) {
                sb.append(String.format(Locale.ROOT, " %9.3f %9.1f %10.3f %7.1f%%", e.bytes() / steps / 1e9, e.flops() / steps / 1e9, floorSeconds * 1e3 / steps,
                        e.seconds() > 0 ? 100 * floorSeconds / e.seconds() : 0));
            } else {
                sb.append(String.format(Locale.ROOT, " %9s %9s %10s %8s", "-", "-", "-", "-"));
            }
        }
        return sb.append('\n').toString();
    }
}
