package io.jxception.internal.backend;

import io.jxception.backend.Precision;
import io.jxception.backend.Probe;

/** One kind of backend (cpu, opencl, cuda): finds its devices and opens sessions on them. */
public interface BackendProvider {
    /** "cpu", "opencl" or "cuda": the name before the optional ":index" on the command line. */
    String kind();

    /** Looks for devices. Never throws: a missing driver or library is reported in the result. */
    Probe probe();

    /** Opens device {@code index} (as listed by {@link #probe()}) with the given precision. */
    KernelBackend open(int index, Precision precision);
}
