package io.jxception.internal.backend.opencl;

import io.jxception.internal.nativeio.SignalHandlers;
import org.lwjgl.system.MemoryStack;

import java.nio.IntBuffer;
import java.util.List;

import static org.lwjgl.opencl.CL10.*;

/**
 * Keeps an OpenCL compiler's LLVM crash handlers out of the JVM's way, so that a program build does not
 * fail because the JVM ran a garbage collection meanwhile.
 *
 * <p>Why: pocl compiles kernels with LLVM inside our process. The first time LLVM writes an output
 * file (clang's preprocessed source, at every build that its cache does not answer) it installs its
 * crash handler for SIGSEGV and 14 other signals in front of the JVM's. But the JVM raises SIGSEGV
 * itself, on purpose, at every safepoint poll once a safepoint is requested (a garbage collection, a
 * deoptimisation) and at implicit null checks. LLVM's handler then deletes every file its compilers
 * have open for writing, unregisters itself and lets the JVM handle the signal: the build running on
 * another thread fails with "unable to rename temporary '...preproc-....cl.tmp' ...: No such file or
 * directory", and the next build installs the handler again. Measured with pocl 3.1 (Debian 12) and a
 * thread that calls System.gc() in a loop: 99 of 100 builds failed; in the test suite, about one run
 * in three lost one build. Starting the JVM with {@code LD_PRELOAD=$JAVA_HOME/lib/libjsig.so} (HotSpot's
 * signal chaining) also prevents it, but a library cannot ask that of every application.
 *
 * <p>What: the JVM's handlers are saved before the OpenCL driver is loaded ({@link #saveJvmHandlers}).
 * When a context is created ({@link #settle}), one build of an empty kernel with a define that no cache
 * has seen makes LLVM install its handlers, and the JVM's are put back at once. LLVM then counts its
 * handlers as installed and never installs them again (it does so only after its own handler ran,
 * which can no longer happen): every later build is safe. Should a garbage collection fall between
 * LLVM's installation and ours, LLVM has already unregistered itself; the build is repeated, twice at
 * most (a driver without LLVM installs nothing and costs two empty builds once per process). After
 * every program build the JVM's handlers are checked again ({@link #restore}) in case a driver installs
 * them later. Process-wide because signal handlers are; the JVM's own handlers are the only ones put
 * back, and only where they were replaced.
 */
final class CompilerSignalHandlers {
    private CompilerSignalHandlers() {}

    /** The JVM's handlers before any OpenCL driver was loaded; null where they cannot be read (not Linux). */
    private static SignalHandlers jvm;
    private static boolean saved;
    /** Whether {@link #settle} has run to its end (once per process). */
    private static boolean settled;
    private static long uniqueDefine;

    /** Saves the current handlers once; call before the OpenCL library is first loaded. */
    static synchronized void saveJvmHandlers() {
        if (saved) return;
        saved = true;
        try {
            jvm = SignalHandlers.save();
        } catch (LinkageError | RuntimeException e) {
            // JNA's native part could not load (e.g. a temporary folder mounted noexec): OpenCL still works,
            // only without this protection
            jvm = null;
        }
    }

    /** Puts back the JVM's handlers where a driver replaced them; returns the signals restored. */
    static List<String> restore() {
        SignalHandlers h;
        synchronized (CompilerSignalHandlers.class) {
            h = jvm;
        }
        return h == null ? List.of() : h.restoreReplaced();
    }

    /**
     * Makes the compiler of {@code device} install its handlers now, on an empty kernel, and puts the
     * JVM's back (see the class comment). Once per process; a failed empty build is not an error here
     * (the real builds report their own).
     */
    static synchronized void settle(long context, long device) {
        if (settled || jvm == null) return;
        for (int attempt = 0; attempt < 2; attempt++) {
            try (MemoryStack stack = MemoryStack.stackPush()) {
                IntBuffer err = stack.mallocInt(1);
                long program = clCreateProgramWithSource(context, "kernel void jx_settle(global int* x) { x[0] = JX_SETTLE; }", err);
                if (err.get(0) != CL_SUCCESS) return;
                // a define never built before: a compiler cache cannot answer it, so LLVM runs and writes files
                String options = "-DJX_SETTLE=" + (++uniqueDefine) + " -DJX_PROCESS=" + ProcessHandle.current().pid() + " -DJX_NANOS=" + System.nanoTime();
                clBuildProgram(program, device, options, null, 0);
                clReleaseProgram(program);
            }
            if (!jvm.restoreReplaced().isEmpty()) break;   // installed by the compiler, removed by us
        }
        settled = true; // or after two tries: the driver installs none, or nothing more can be done here
    }
}
