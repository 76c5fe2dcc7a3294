package io.jxception.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * cuBLAS in-process, from one of two optional ('provided') bindings, each loaded by reflection so
 * the library runs without their jars:
 * <ul>
 * <li>{@link Source#JCUBLAS}: JCublas 12.6.0 ({@link JCublasGemms}), which needs libcublas.so.12,
 *     absent from a CUDA 13 machine;</li>
 * <li>{@link Source#JAVACPP}: the JavaCPP CUDA 13 preset org.bytedeco:cuda 13.1-9.19-1.5.13
 *     ({@link JavaCppCublasGemms}), which needs the driver's libcuda.so.1 and libcudart.so.13,
 *     libcublas.so.13 (torch's nvidia wheels on the GPU machines, found through LD_LIBRARY_PATH).</li>
 * </ul>
 * Nothing outside those classes names a binding's class, and each is loaded only after its probe
 * class is found. Every failure, from a missing jar to a missing library or device, becomes one
 * "cuBLAS unavailable: &lt;source&gt;: &lt;reason&gt;" note; which sources run is {@link CublasSources}'s call.
 */
public final class CublasPeer {
    private CublasPeer() {}

    /** The in-process side: times cublasGemmEx on each GEMM in each precision. */
    interface Timer extends AutoCloseable {
        /** Library and device, e.g. "JCublas 12.6.0 cublasGemmEx, cuBLAS 120604" / "cuda:0 (NVIDIA H100 ...)". */
        String library();

        String device();

        List<GemmPeerResult> time(List<PointwiseGemm> gemms, String precision, int batch, int warmup, int iterations, List<String> notes);

        @Override void close();
    }

    /**
     * One result per GEMM of {@code gemms}, each distinct (m, n, k) timed once by {@code timeShape} (the
     * middle flow's 24 GEMMs share one shape), labelled with {@code timer}'s library and device.
     */
    static List<GemmPeerResult> timeEachShape(Timer timer, List<PointwiseGemm> gemms, String precision, int batch,
                                              Function<PointwiseGemm, Samples> timeShape) {
        List<GemmPeerResult> out = new ArrayList<>();
        Map<String, Samples> timed = new HashMap<>(); // "m n k" -> its time
        for (PointwiseGemm g : gemms) {
            Samples s = timed.computeIfAbsent(g.m() + " " + g.n() + " " + g.k(), shape -> timeShape.apply(g));
            out.add(new GemmPeerResult("cublas: " + timer.library(), timer.device(), precision, batch, g.index(), g.node(), g.m(), g.n(), g.k(), s));
        }
        return out;
    }

    /** Opens a source's timer on a device, or says why it cannot (the seam {@link CublasSources} is tested through). */
    interface Opener {
        Timer open(Source source, int device) throws UnavailableException;
    }

    /** A binding: its name in notes, a class of its jar (probed first), our timer class and the jar to name when it is missing. */
    public enum Source {
        JCUBLAS("JCublas", "jcuda.jcublas.JCublas2", "io.jxception.bench.JCublasGemms", "the JCublas jar (org.jcuda:jcublas 12.6.0)"),
        JAVACPP("JavaCPP", "org.bytedeco.cuda.global.cublas", "io.jxception.bench.JavaCppCublasGemms", JavaCppRuntime.JAR);

        final String label, probeClass, timerClass, jar;

        Source(String label, String probeClass, String timerClass, String jar) {
            this.label = label;
            this.probeClass = probeClass;
            this.timerClass = timerClass;
            this.jar = jar;
        }
    }

    /**
     * Opens cuBLAS through {@code source} on CUDA device {@code device}, or says why it cannot.
     *
     * @throws UnavailableException with the reason, never anything else
     */
    static Timer open(Source source, int device) throws UnavailableException {
        if (source == Source.JAVACPP) JavaCppRuntime.load();
        try {
            Class.forName(source.probeClass, false, CublasPeer.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            throw new UnavailableException(source.jar + " is not on the class path");
        }
        try {
            Class<?> c = Class.forName(source.timerClass);
            return (Timer) c.getDeclaredConstructor(int.class).newInstance(device);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw new UnavailableException(reason(e.getCause()));
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            throw new UnavailableException(reason(e));
        }
    }

    /** cuBLAS through {@code source} on the pointwise GEMMs of one batch in each precision; never throws. */
    public static GemmPeerRunner.Outcome run(Source source, int device, List<PointwiseGemm> gemms, List<String> precisions, int batch, int warmup,
                                             int iterations) {
        return run(CublasPeer::open, source, device, gemms, precisions, batch, warmup, iterations);
    }

    static GemmPeerRunner.Outcome run(Opener opener, Source source, int device, List<PointwiseGemm> gemms, List<String> precisions, int batch,
                                      int warmup, int iterations) {
        List<String> notes = new ArrayList<>();
        List<GemmPeerResult> out = new ArrayList<>();
        try (Timer t = opener.open(source, device)) {
            for (String p : precisions) out.addAll(t.time(gemms, p, batch, warmup, iterations, notes));
        } catch (UnavailableException e) {
            notes.add(UNAVAILABLE + source.label + ": " + e.getMessage());
        } catch (RuntimeException | LinkageError e) {
            notes.add(UNAVAILABLE + source.label + " failed at batch " + batch + ": " + reason(e));
        }
        return new GemmPeerRunner.Outcome(out, notes);
    }

    /** The prefix of every note saying a cuBLAS source cannot run. */
    static final String UNAVAILABLE = "cuBLAS unavailable: ";

    /**
     * One line saying why: the root cause's first line, except where the message holds the linker's
     * line ("/tmp/libJCublas2-....so: libcublas.so.12: cannot open shared object file", which JCuda
     * nests in a stack trace; JavaCPP's "/cache/.../libjnicudart.so: libcuda.so.1: cannot open ..."):
     * its missing library is reported.
     */
    static String reason(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        String m = String.valueOf(root.getMessage()).strip();
        for (String line : m.split("\n")) {
            int at = line.indexOf("cannot open shared object file");
            if (at < 0) continue;
            String what = line.substring(0, at);
            int so = what.lastIndexOf(".so: ", what.length() - 3); // "<jni lib>.so: <missing lib>: cannot open ..."
            return root.getClass().getSimpleName() + ": " + (so >= 0 ? line.substring(so + 5) : line.strip());
        }
        if (m.contains("\n")) m = m.substring(0, m.indexOf('\n'));
        return root.getClass().getSimpleName() + ": " + m;
    }

    /** Why cuBLAS cannot run here. */
    static final class UnavailableException extends Exception {
        UnavailableException(String reason) { super(reason); }
    }
}
