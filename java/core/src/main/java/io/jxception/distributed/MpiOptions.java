package io.jxception.distributed;

import java.util.Objects;

/**
 * How {@link Communicators} opens MPI. Immutable.
 *
 * @param library     the libmpi to load, a path or a soname ("libmpi.so.40"); null to take the
 *                    environment variable {@value #LIBRARY_VARIABLE}, else to choose by the launcher
 *                    that started the process (Open MPI's mpirun: libmpi.so.40; MPICH's Hydra or
 *                    MVAPICH: libmpi.so.12, libmpich.so.12; otherwise the system's libmpi.so first)
 * @param threadLevel the MPI thread level to ask for when this process initialises MPI (the level
 *                    granted may be lower: {@link Communicator#threadLevel()} says which, and is
 *                    enforced)
 * @param stagingBytes the most native memory a blocking collective on a Java array copies through
 *                    at a time (the array goes to MPI in pieces of this size; direct buffers are
 *                    not copied); at least 8
 */
public record MpiOptions(String library, ThreadLevel threadLevel, int stagingBytes) {
    /** The environment variable that names the libmpi to load when {@link #library()} is null. */
    public static final String LIBRARY_VARIABLE = "JXCEPTION_MPI_LIBRARY";
    /** The default {@link #stagingBytes()}: 64 MiB, large enough that MPI sees bandwidth-sized messages. */
    public static final int DEFAULT_STAGING_BYTES = 64 << 20;

    /** Checks the values: a thread level, a library name that is not blank (or null), room for one double. */
    public MpiOptions {
        Objects.requireNonNull(threadLevel, "threadLevel");
        if (library != null && library.isBlank()) throw new IllegalArgumentException("library must be a path or soname, or null to choose by the launcher");
        if (stagingBytes < 8) throw new IllegalArgumentException("stagingBytes must hold at least one double (8 bytes), got " + stagingBytes);
    }

    /**
     * The library chosen by the launcher, thread level {@link ThreadLevel#SERIALIZED}: any thread may
     * call (the training loop and a checkpoint thread, say), one at a time, which Open MPI grants
     * without the costs of MULTIPLE; {@value #DEFAULT_STAGING_BYTES} bytes of staging.
     */
    public static MpiOptions defaults() {
        return new MpiOptions(null, ThreadLevel.SERIALIZED, DEFAULT_STAGING_BYTES);
    }

    /** These options with another library (null: by the launcher). */
    public MpiOptions withLibrary(String library) { return new MpiOptions(library, threadLevel, stagingBytes); }

    /** These options with another thread level to ask for. */
    public MpiOptions withThreadLevel(ThreadLevel threadLevel) { return new MpiOptions(library, threadLevel, stagingBytes); }

    /** These options with another staging size. */
    public MpiOptions withStagingBytes(int stagingBytes) { return new MpiOptions(library, threadLevel, stagingBytes); }
}
