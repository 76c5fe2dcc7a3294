package io.jxception.internal.nativeio;

import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The process's signal handlers as they were at one moment (before a native library that installs
 * its own was loaded), and their restoration where that library replaced them since.
 *
 * <p>Why: the JVM handles SIGSEGV, SIGBUS, SIGILL and SIGFPE itself (stack overflow checks,
 * implicit null checks, safepoint polls) and SIGTERM, SIGINT, SIGHUP (shutdown hooks), SIGQUIT (thread
 * dumps), SIGUSR2 (thread suspension). Native libraries loaded later may put theirs in front:
 * <ul>
 * <li>MPI ({@code io.jxception.internal.distributed.MpiLibrary}). Seen on Debian 12 with MPICH 4.0.2:
 * loading libmpich loads UCX, whose libucs installs its error handler for SIGSEGV, SIGBUS, SIGILL,
 * SIGFPE in a library constructor; then MPI_Init runs hwloc's topology discovery, hwloc's OpenCL
 * plugin loads the OpenCL driver, and pocl's LLVM installs crash handlers for 15 signals. The first
 * StackOverflowError then ends the JVM with a UCX backtrace. Open MPI 4.1.4 only adds a SIGABRT
 * handler where the JVM has none.</li>
 * <li>An OpenCL compiler built on LLVM (pocl), see
 * {@code io.jxception.internal.backend.opencl.CompilerSignalHandlers}.</li>
 * </ul>
 *
 * <p>What: for each signal 1..31 (but SIGKILL, SIGSTOP) whose handler was not the default when
 * {@link #save()} ran and is a different one now, the saved {@code struct sigaction} is put back.
 * Handlers installed where there was none (SIGABRT, SIGUSR1 under MPI) are left alone. Linux only
 * (signal numbers of x86-64 and AArch64); elsewhere nothing is saved or restored. Thread-safe: the
 * saved state is never changed after {@link #save()}.
 */
public final class SignalHandlers {
    /** Room for glibc's and musl's {@code struct sigaction} (152 bytes on x86-64 and AArch64). */
    private static final int SIGACTION_BYTES = 256;
    private static final int SIGKILL = 9, SIGSTOP = 19;
    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(1, "SIGHUP"), Map.entry(2, "SIGINT"), Map.entry(3, "SIGQUIT"), Map.entry(4, "SIGILL"), Map.entry(5, "SIGTRAP"),
            Map.entry(6, "SIGABRT"), Map.entry(7, "SIGBUS"), Map.entry(8, "SIGFPE"), Map.entry(10, "SIGUSR1"), Map.entry(11, "SIGSEGV"),
            Map.entry(12, "SIGUSR2"), Map.entry(13, "SIGPIPE"), Map.entry(14, "SIGALRM"), Map.entry(15, "SIGTERM"), Map.entry(17, "SIGCHLD"),
            Map.entry(24, "SIGXCPU"), Map.entry(25, "SIGXFSZ"), Map.entry(31, "SIGSYS"));

    private final Function sigaction;
    /** Signal number -> its struct sigaction when {@link #save()} ran (null entries: not saved). */
    private final Memory[] saved = new Memory[32];

    private SignalHandlers(Function sigaction) {
        this.sigaction = sigaction;
    }

    /** The current handlers, or null where this cannot be done (not Linux, no sigaction in libc). */
    public static SignalHandlers save() {
        if (!Platform.isLinux()) return null;
        Function sigaction;
        try {
            sigaction = NativeLibrary.getInstance(Platform.C_LIBRARY_NAME).getFunction("sigaction");
        } catch (UnsatisfiedLinkError e) {
            return null;
        }
        SignalHandlers h = new SignalHandlers(sigaction);
        for (int signal = 1; signal < 32; signal++) {
            if (signal == SIGKILL || signal == SIGSTOP) continue;
            Memory m = new Memory(SIGACTION_BYTES);
            m.clear();
            if (sigaction.invokeInt(new Object[]{signal, null, m}) == 0) h.saved[signal] = m;
        }
        return h;
    }

    /**
     * Puts back every saved handler that was not the default and has been replaced since; returns the
     * names of the signals restored (empty when nothing had changed). The saved state is kept, so
     * this may be called again.
     */
    public List<String> restoreReplaced() {
        List<String> restored = new ArrayList<>();
        try (Memory now = new Memory(SIGACTION_BYTES)) {
            for (int signal = 1; signal < 32; signal++) {
                Memory before = saved[signal];
                if (before == null) continue;
                long handlerBefore = before.getLong(0); // sa_handler / sa_sigaction: the first member
                now.clear();
                if (handlerBefore != 0 && sigaction.invokeInt(new Object[]{signal, null, now}) == 0 && now.getLong(0) != handlerBefore
                        && sigaction.invokeInt(new Object[]{signal, before, null}) == 0) {
                    restored.add(NAMES.getOrDefault(signal, "signal " + signal));
                }
            }
        }
        return restored;
    }
}
