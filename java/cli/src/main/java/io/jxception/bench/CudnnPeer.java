package io.jxception.bench;

import io.jxception.model.XceptionGraph;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * cuDNN per layer from the JVM: each fused launch's work ({@link CudnnPlan}) through cuDNN 9's
 * legacy API in this process, via the JavaCPP CUDA 13 preset ({@link JavaCppCudnnLayers}, an
 * optional 'provided' dependency loaded by reflection, like {@link CublasPeer}'s bindings). It needs
 * the driver's libcuda.so.1 and libcudart.so.13, libcudnn_{cnn,adv,ops,graph}.so.9 (torch's nvidia
 * wheels on the GPU machines, found through LD_LIBRARY_PATH). Its rows sit beside the torch-based ones ({@link LayerPeerRunner}) with
 * the peer label {@value #PEER}; whatever keeps it from running (no jar, a library or device missing)
 * is one "cuDNN per layer (JVM) unavailable: &lt;reason&gt;" note, never an exception.
 */
public final class CudnnPeer {
    private CudnnPeer() {}

    /** The in-process side: times one launch's plan in one precision. */
    interface Timer extends AutoCloseable {
        /** e.g. "JavaCPP cuda 13.1-9.19-1.5.13, cuDNN 91900 legacy API, CUDA runtime 13000". */
        String library();

        /** e.g. "cuda:0 (NVIDIA H200)". */
        String device();

        /** The median-ready times of the plan's calls in sequence, in seconds; throws where cuDNN refuses a call. */
        Samples time(CudnnPlan plan, String precision, int warmup, int iterations);

        @Override void close();
    }

    /** Opens a timer on a device or says why not (the seam tests use). */
    interface Opener {
        Timer open(int device) throws CublasPeer.UnavailableException;
    }

    /** The peer label of its rows, before the library: "cudnn9-jvm: JavaCPP ...". */
    static final String PEER = "cudnn9-jvm";

    static final String UNAVAILABLE = "cuDNN per layer (JVM) unavailable: ";

    static final String PROBE_CLASS = "org.bytedeco.cuda.global.cudnn", TIMER_CLASS = "io.jxception.bench.JavaCppCudnnLayers";

    /**
     * Opens cuDNN on CUDA device {@code device}, or says why it cannot.
     *
     * @throws CublasPeer.UnavailableException with the reason, never anything else
     */
    static Timer open(int device) throws CublasPeer.UnavailableException {
        JavaCppRuntime.load();
        try {
            Class.forName(PROBE_CLASS, false, CudnnPeer.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            throw new CublasPeer.UnavailableException(JavaCppRuntime.JAR + " is not on the class path");
        }
        try {
            Class<?> c = Class.forName(TIMER_CLASS);
            return (Timer) c.getDeclaredConstructor(int.class).newInstance(device);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw new CublasPeer.UnavailableException(CublasPeer.reason(e.getCause()));
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            throw new CublasPeer.UnavailableException(CublasPeer.reason(e));
        }
    }

    /**
     * Seconds one batch size may take: at batch 256 a launch allocates and fills up to ~3 GB and
     * cudnnFind tries every algorithm, so 23 geometries in two precisions can take a minute or more;
     * past this the remaining launches are skipped with a note, the suite's budget kept.
     */
    static final long BUDGET_SECONDS = 45;

    /** Every launch of one forward at {@code batch} in each precision, within {@code budgetSeconds} (0: no limit); never throws. */
    public static LayerPeerRunner.Outcome run(int device, XceptionGraph graph, int batch, List<String> precisions, int warmup, int iterations,
                                              long budgetSeconds) {
        return run(CudnnPeer::open, device, CudnnPlan.of(graph, batch), batch, precisions, warmup, iterations, budgetSeconds);
    }

    /**
     * The plans in each precision, launches of equal geometry (the middle flow's) timed once; a launch
     * cuDNN refuses is a note ("cuDNN per layer (JVM) bf16 batch 1 block1_conv1 failed: ...") and the
     * others still run. Past the budget, the launches left are one note. Unavailable: the outcome
     * says so, for the suite not to try again.
     */
    static LayerPeerRunner.Outcome run(Opener opener, int device, List<CudnnPlan> plans, int batch, List<String> precisions, int warmup, int iterations,
                                       long budgetSeconds) {
        List<String> notes = new ArrayList<>();
        List<LayerPeerResult> out = new ArrayList<>();
        long deadline = System.nanoTime() + budgetSeconds * 1_000_000_000L;
        try (Timer t = opener.open(device)) {
            String peer = PEER + ": " + t.library();
            int left = precisions.size() * plans.size();
            for (String precision : precisions) {
                Map<String, Object> done = new HashMap<>(); // geometry -> Samples, or the failure's reason
                for (CudnnPlan plan : plans) {
                    if (budgetSeconds > 0 && !done.containsKey(plan.geometry()) && System.nanoTime() - deadline > 0) {
                        notes.add("cuDNN per layer (JVM) batch " + batch + ": stopped at its budget of " + budgetSeconds + " s, " + left
                                + " launches left untimed (from " + precision + " " + plan.node() + ")");
                        return new LayerPeerRunner.Outcome(out, notes, false);
                    }
                    left--;
                    Object r = done.computeIfAbsent(plan.geometry(), g -> {
                        try {
                            return t.time(plan, precision, warmup, iterations);
                        } catch (RuntimeException | LinkageError e) {
                            return CublasPeer.reason(e);
                        }
                    });
                    if (r instanceof Samples s) {
                        out.add(new LayerPeerResult(peer, t.device(), precision, batch, plan.index(), plan.node(), plan.ops(), s));
                    } else {
                        notes.add("cuDNN per layer (JVM) " + precision + " batch " + batch + " " + plan.node() + " failed: " + r);
                    }
                }
            }
        } catch (CublasPeer.UnavailableException e) {
            notes.add(UNAVAILABLE + e.getMessage());
            return new LayerPeerRunner.Outcome(out, notes, true);
        } catch (RuntimeException | LinkageError e) {
            notes.add(UNAVAILABLE + "failed at batch " + batch + ": " + CublasPeer.reason(e));
            return new LayerPeerRunner.Outcome(out, notes, true);
        }
        return new LayerPeerRunner.Outcome(out, notes, false);
    }
}
