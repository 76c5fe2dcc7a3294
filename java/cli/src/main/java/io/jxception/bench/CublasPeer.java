package io.jxception.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * cuBLAS in-process, through JCublas 12.6.0 where it loads: JCublas is an optional ('provided')
 * dependency and needs libcublas.so.12, which a CUDA 13 machine lacks. Nothing outside
 * {@link JCublasGemms} names a JCublas class, and that class is loaded by reflection only after
 * {@code jcuda.jcublas.JCublas2} is found, so the library runs without the jar. Every failure, from a
 * missing jar to a missing libcublas, becomes one "cuBLAS unavailable: JCublas: &lt;reason&gt;" note;
 * the suite then relies on the torch.mm peer ({@link GemmPeerRunner}) for cuBLAS numbers.
 */
public final class CublasPeer {
    private CublasPeer() {}

    /** The JCublas side: times cublasGemmEx on each GEMM in each precision. */
    interface Timer extends AutoCloseable {
        /** Library and device, e.g. "JCublas 12.6.0 cublasGemmEx, cuBLAS 120604" / "cuda:0 (NVIDIA H100 ...)". */
        String library();

        String device();

        List<GemmPeerResult> time(List<PointwiseGemm> gemms, String precision, int batch, int warmup, int iterations, List<String> notes);

        @Override void close();
    }

    static final String JCUBLAS_CLASS = "jcuda.jcublas.JCublas2", TIMER_CLASS = "io.jxception.bench.JCublasGemms";

    /**
     * Opens cuBLAS on CUDA device {@code device}, or says why it cannot.
     *
     * @throws UnavailableException with the reason, never anything else
     */
    static Timer open(int device) throws UnavailableException {
        try {
            Class.forName(JCUBLAS_CLASS, false, CublasPeer.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            throw new UnavailableException("the JCublas jar (org.jcuda:jcublas 12.6.0) is not on the class path");
        }
        try {
            Class<?> c = Class.forName(TIMER_CLASS);
            return (Timer) c.getDeclaredConstructor(int.class).newInstance(device);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw new UnavailableException(reason(e.getCause()));
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            throw new UnavailableException(reason(e));
        }
    }

    /** cuBLAS on the pointwise GEMMs of one batch in each precision; never throws. */
    public static GemmPeerRunner.Outcome run(int device, List<PointwiseGemm> gemms, List<String> precisions, int batch, int warmup, int iterations) {
        List<String> notes = new ArrayList<>();
        List<GemmPeerResult> out = new ArrayList<>();
        try (Timer t = open(device)) {
            for (String p : precisions) out.addAll(t.time(gemms, p, batch, warmup, iterations, notes));
        } catch (UnavailableException e) {
            notes.add("cuBLAS unavailable: JCublas: " + e.getMessage());
        } catch (RuntimeException | LinkageError e) {
            notes.add("cuBLAS unavailable: JCublas failed at batch " + batch + ": " + reason(e));
        }
        return new GemmPeerRunner.Outcome(out, notes);
    }

    /**
     * One line saying why: the root cause's first line, except that JCuda's native-library errors
     * carry their nested stack traces in the message, where the line that matters is the linker's
     * ("/tmp/libJCublas2-....so: libcublas.so.12: cannot open shared object file"): its missing
     * library is reported.
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
