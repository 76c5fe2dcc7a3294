package io.jxception.internal.backend.opencl;

import org.lwjgl.opencl.CL;
import org.lwjgl.system.Configuration;

import java.io.File;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Finds the system OpenCL ICD loader without help from the user. LWJGL asks the dynamic linker for
 * {@code libOpenCL.so}, which only exists where the development package is installed; runtime-only
 * systems (Debian's ocl-icd-libopencl1) ship {@code libOpenCL.so.1}. So we look for both, and when
 * only the versioned one exists we point {@link Configuration#OPENCL_LIBRARY_NAME} at it before LWJGL's
 * {@code CL} class first loads. A user-set {@code -Dorg.lwjgl.opencl.libname} always wins.
 *
 * <p>The outcome is decided once per JVM (LWJGL's class initialisation cannot be retried).
 */
final class OpenClLibrary {
    private OpenClLibrary() {}

    private static final String[] NAMES = {"libOpenCL.so", "libOpenCL.so.1"};
    private static final String[] DIRS = {
        "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib/x86_64-linux-gnu",
        "/lib64", "/usr/local/lib", "/usr/local/cuda/lib64", "/opt/rocm/lib", "/opt/intel/opencl/lib64"};

    /** null when loaded; otherwise why not. */
    private static String failure;
    private static String loadedFrom;
    private static boolean attempted;

    /** Loads the library if not yet tried; returns null on success or the reason it is unavailable. */
    static synchronized String load() {
        if (attempted) return failure;
        attempted = true;
        try {
            String userChoice = System.getProperty("org.lwjgl.opencl.libname");
            if (userChoice == null) {
                String chosen = locate();
                if (chosen == null) {
                    failure = "no OpenCL library (libOpenCL.so or libOpenCL.so.1) found in " + String.join(", ", searchDirs())
                            + "; install ocl-icd-libopencl1 and a driver (e.g. pocl-opencl-icd), or set -Dorg.lwjgl.opencl.libname=/path/to/libOpenCL.so.1";
                    return failure;
                }
                Configuration.OPENCL_LIBRARY_NAME.set(chosen);
                loadedFrom = chosen;
            } else {
                loadedFrom = userChoice;
            }
            CompilerSignalHandlers.saveJvmHandlers(); // before a driver's compiler can install its own
            CL.getFunctionProvider(); // forces LWJGL's CL class to load the library now
            if (CL.getFunctionProvider() == null) failure = "LWJGL could not initialise OpenCL from " + loadedFrom;
        } catch (Throwable t) {
            failure = "loading " + loadedFrom + " failed: " + t;
        }
        return failure;
    }

    /** Path of the loaded library (after a successful {@link #load()}). */
    static synchronized String loadedFrom() { return loadedFrom; }

    /** The first of libOpenCL.so, libOpenCL.so.1 found in LD_LIBRARY_PATH and the usual directories (absolute path). */
    static String locate() { return locate(searchDirs()); }

    /** The unversioned name in any directory wins over the versioned one; null when neither exists. */
    static String locate(List<String> dirs) {
        for (String name : NAMES) {
            for (String dir : dirs) {
                File f = new File(dir, name);
                if (f.isFile() && f.canRead()) return f.getAbsolutePath();
            }
        }
        return null;
    }

    static List<String> searchDirs() {
        Set<String> dirs = new LinkedHashSet<>();
        String ld = System.getenv("LD_LIBRARY_PATH");
        if (ld != null) for (String d : ld.split(File.pathSeparator)) if (!d.isBlank()) dirs.add(d);
        for (String d : DIRS) dirs.add(d);
        return new ArrayList<>(dirs);
    }
}
