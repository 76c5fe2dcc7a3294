package io.jxception.bench;

/**
 * Loads the JavaCPP CUDA runtime binding once per JVM for the JavaCPP peers ({@link CublasPeer}'s
 * JavaCPP source, {@link CudnnPeer}), and remembers why it failed: a class whose static
 * initializer failed (org.bytedeco.cuda.global.cudart, which loads libjnicudart and with it
 * libcudart.so.13 and libcuda.so.1) answers every later use with "Could not initialize class",
 * which no longer names the missing library. Names org.bytedeco only as strings, so it loads without
 * the jars.
 */
final class JavaCppRuntime {
    private JavaCppRuntime() {}

    static final String JAR = "the JavaCPP CUDA preset (org.bytedeco:cuda 13.1-9.19-1.5.13 and org.bytedeco:javacpp 1.5.13)";

    private static final String CUDART_CLASS = "org.bytedeco.cuda.global.cudart";

    /** The first load's failure, or null after a success or before any try. */
    private static String failure;
    private static boolean loaded;

    /** @throws CublasPeer.UnavailableException why the binding or the libraries it needs cannot load, the same reason every time */
    static synchronized void load() throws CublasPeer.UnavailableException {
        if (loaded) return;
        if (failure == null) {
            try {
                Class.forName(CUDART_CLASS, true, JavaCppRuntime.class.getClassLoader());
                loaded = true;
                return;
            } catch (ClassNotFoundException e) {
                failure = JAR + " is not on the class path";
            } catch (LinkageError | RuntimeException e) {
                failure = CublasPeer.reason(e);
            }
        }
        throw new CublasPeer.UnavailableException(failure);
    }
}
