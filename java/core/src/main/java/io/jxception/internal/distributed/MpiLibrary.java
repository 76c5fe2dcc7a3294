package io.jxception.internal.distributed;

import com.sun.jna.Function;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.NativeLibrary;
import io.jxception.distributed.CommunicatorException;
import io.jxception.internal.nativeio.SignalHandlers;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One loaded libmpi: its ABI ({@link MpiAbi}), version string, predefined handles, and the calls
 * this binding makes, each through JNA's {@link Function} so that a handle is passed as a pointer
 * (Open MPI) or an int (MPICH) from the same code.
 *
 * <p>The library is opened with {@code RTLD_LAZY | RTLD_GLOBAL} (JNA's default on Linux, set here
 * explicitly): Open MPI loads its components (mca_*.so) with dlopen and some builds leave their
 * references to libmpi's symbols to be resolved from the global namespace.
 *
 * <p>Thread-safety: the object is immutable after loading; whether MPI itself may be called from
 * several threads is MPI's thread level, which {@link MpiProcess} enforces.
 */
public final class MpiLibrary {
    private static final int RTLD_LAZY = 0x1, RTLD_GLOBAL = 0x100;
    private static final int MPI_SUCCESS = 0;

    private final NativeLibrary library;
    private final String name;
    private final String version;
    private final MpiAbi abi;
    private final MpiAbi.Handles handles;
    private final Map<String, Function> functions = new ConcurrentHashMap<>();
    /** The process's signal handlers before this library was loaded, until MPI_Init has run. */
    private SignalHandlers jvmHandlers;

    private MpiLibrary(NativeLibrary library, String name) {
        this.library = library;
        this.name = name;
        this.version = readVersion(library);
        MpiAbi detected = MpiAbi.fromVersion(version);
        if (detected == null) {
            throw new CommunicatorException(name + " is an MPI library of an unknown kind (\"" + firstLine(version)
                    + "\"): this binding knows Open MPI and MPICH-ABI libraries (MPICH, Intel MPI, MVAPICH, Cray MPICH)");
        }
        this.abi = detected;
        try {
            this.handles = detected.handles(library);
        } catch (IllegalStateException e) {
            throw new CommunicatorException(e.getMessage(), e);
        }
    }

    /**
     * Opens the first of {@code candidates} (sonames looked up by the dynamic loader, or paths) that
     * loads and exports {@code MPI_Get_library_version}.
     *
     * @throws CommunicatorException naming every candidate and why it failed
     */
    public static MpiLibrary load(List<String> candidates) {
        // before the first dlopen: the constructors of libmpi's dependencies may install signal handlers (UCX's libucs does)
        SignalHandlers jvmHandlers = SignalHandlers.save();
        List<String> failures = new ArrayList<>();
        for (String candidate : candidates) {
            NativeLibrary lib;
            try {
                lib = NativeLibrary.getInstance(candidate, Map.of(Library.OPTION_OPEN_FLAGS, RTLD_LAZY | RTLD_GLOBAL));
            } catch (UnsatisfiedLinkError e) {
                failures.add(candidate + ": " + loaderError(e.getMessage()));
                continue;
            }
            try {
                lib.getFunction("MPI_Get_library_version");
            } catch (UnsatisfiedLinkError e) {
                failures.add(candidate + ": loads but has no MPI_Get_library_version (not an MPI-3 library)");
                continue;
            }
            MpiLibrary loaded = new MpiLibrary(lib, candidate);
            loaded.jvmHandlers = jvmHandlers;
            return loaded;
        }
        if (jvmHandlers != null) jvmHandlers.restoreReplaced();
        throw new CommunicatorException("no MPI library could be loaded: " + String.join("; ", failures));
    }

    /**
     * Puts back the signal handlers that loading this library or initialising MPI replaced
     * ({@link SignalHandlers}), once, after MPI_Init; returns the signals restored.
     */
    synchronized List<String> restoreJvmSignalHandlers() {
        if (jvmHandlers == null) return List.of();
        List<String> restored = jvmHandlers.restoreReplaced();
        jvmHandlers = null;
        return restored;
    }

    /** The name it was loaded by (soname or path). */
    public String name() { return name; }

    /** The file the dynamic loader opened. */
    public String file() { return library.getFile() == null ? name : library.getFile().getPath(); }

    /** {@code MPI_Get_library_version}, e.g. "Open MPI v4.1.4, package: Debian OpenMPI, ...". */
    public String version() { return version; }

    /** The first line of {@link #version()}, without the build details. */
    public String shortVersion() {
        String v = firstLine(version);
        int comma = v.indexOf(',');
        return comma > 0 && abi == MpiAbi.OPEN_MPI ? v.substring(0, comma) : v;
    }

    /** The ABI read from the version string. */
    public MpiAbi abi() { return abi; }

    MpiAbi.Handles handles() { return handles; }

    /** {@code MPI_Initialized}: callable before MPI_Init and after MPI_Finalize. */
    boolean initialized() { return flag("MPI_Initialized"); }

    /** {@code MPI_Finalized}: callable before MPI_Init and after MPI_Finalize. */
    boolean finalized() { return flag("MPI_Finalized"); }

    private boolean flag(String function) {
        try (Memory flag = new Memory(Integer.BYTES)) {
            check(function, invoke(function, flag));
            return flag.getInt(0) != 0;
        }
    }

    /** Calls {@code function} with JNA-converted {@code args} and returns its int result (an MPI error code). */
    int invoke(String function, Object... args) {
        return functions.computeIfAbsent(function, library::getFunction).invokeInt(args);
    }

    /** {@link #invoke} that turns an error code into a {@link CommunicatorException}. */
    void call(String function, Object... args) {
        check(function, invoke(function, args));
    }

    /** Throws a {@link CommunicatorException} with the library's text for {@code code} unless it is MPI_SUCCESS. */
    void check(String function, int code) {
        if (code == MPI_SUCCESS) return;
        throw new CommunicatorException(function + " failed with error " + code + " (" + errorString(code) + ")", code);
    }

    /** {@code MPI_Error_string}, or a note when the library cannot say (callable before and after init). */
    String errorString(int code) {
        try (Memory text = new Memory(abi.maxErrorString + 1L); Memory length = new Memory(Integer.BYTES)) {
            text.clear();
            int rc = invoke("MPI_Error_string", code, text, length);
            if (rc != MPI_SUCCESS) return "no error string for this code";
            return text.getString(0, StandardCharsets.UTF_8.name()).strip();
        }
    }

    private static String readVersion(NativeLibrary library) {
        // the larger of the two ABIs' MPI_MAX_LIBRARY_VERSION_STRING: the ABI is not known yet
        try (Memory text = new Memory(MpiAbi.MPICH.maxLibraryVersionString + 1L); Memory length = new Memory(Integer.BYTES)) {
            text.clear();
            int rc = library.getFunction("MPI_Get_library_version").invokeInt(new Object[]{text, length});
            if (rc != MPI_SUCCESS) throw new CommunicatorException(library.getName() + ": MPI_Get_library_version failed with error " + rc, rc);
            return text.getString(0, StandardCharsets.UTF_8.name()).strip();
        }
    }

    /** The first line, with runs of white space (MPICH separates with tabs) made one space. */
    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).strip().replaceAll("\\s+", " ");
    }

    /**
     * The dynamic loader's reasons from JNA's UnsatisfiedLinkError, one line: JNA puts each attempt
     * on a line of its own, repeats the loader's text, and adds its class path search.
     */
    private static String loaderError(String message) {
        if (message == null) return "not found";
        Set<String> reasons = new LinkedHashSet<>();
        for (String line : message.split("\n")) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("Unable to load library") || l.startsWith("Native library")) continue;
            reasons.add(l.replaceAll("\\s+", " "));
        }
        return reasons.isEmpty() ? firstLine(message) : String.join("; ", reasons);
    }
}
