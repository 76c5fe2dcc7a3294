package io.jxception.internal.backend;

import io.jxception.backend.Precision;
import io.jxception.backend.Probe;

/** One kind of backend (cpu, opencl, cuda): finds its devices and opens sessions on them. */
public interface BackendProvider {
    /** "cpu", "opencl" or "cuda": the name before the optional ":index" on the command line. */
    String kind();

    /** Looks for devices. Never throws: a missing driver or library is reported in the result. */
    Probe probe();

    /** Opens device {@code index} (as listed by {@link #probe()}) with the given precision and default options. */
    default KernelBackend open(int index, Precision precision) { return open(index, precision, java.util.Map.of()); }

    /**
     * Opens device {@code index} with backend options ({@code "<kind>.<name>" -> value}, e.g.
     * {@code cuda.stem=old}). Entries of other kinds are ignored; an unknown key of this kind or a
     * bad value throws {@link IllegalArgumentException}.
     */
    KernelBackend open(int index, Precision precision, java.util.Map<String, String> options);

    /** Throws for any {@code options} key of {@code kind} when the backend knows none: "<kind> backend takes no options". */
    static void requireNoOptions(String kind, java.util.Map<String, String> options) {
        for (String key : options.keySet()) {
            if (key.startsWith(kind + ".")) throw new IllegalArgumentException("unknown " + kind + " backend option '" + key + "': the " + kind + " backend takes none");
        }
    }
}
