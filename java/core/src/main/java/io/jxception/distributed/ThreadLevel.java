package io.jxception.distributed;

/**
 * MPI's thread support levels ({@code MPI_THREAD_*}), in increasing order of what they allow. A
 * communicator asks for one when MPI is initialised and reports the level granted
 * ({@link Communicator#threadLevel()}); it then enforces the usage that level allows.
 */
public enum ThreadLevel {
    /** Only one thread in the process. Enforced like {@link #FUNNELED}: calls from the opening thread only. */
    SINGLE,
    /** Only the thread that initialised MPI calls it; other threads of the process may exist. */
    FUNNELED,
    /** Any thread calls MPI, but never two at once (a communicator serialises its calls with a lock). */
    SERIALIZED,
    /** Any thread, at any time. */
    MULTIPLE;

    /** The {@code MPI_THREAD_*} value: 0 to 3 in both the Open MPI and the MPICH ABI. */
    public int mpiValue() { return ordinal(); }

    /** The level of an {@code MPI_THREAD_*} value. */
    public static ThreadLevel ofMpiValue(int value) {
        if (value < 0 || value >= values().length) throw new IllegalArgumentException("MPI thread level " + value + " is not one of MPI_THREAD_SINGLE..MULTIPLE (0..3)");
        return values()[value];
    }

    /** Whether any thread may make a call (serialised): SERIALIZED and MULTIPLE. */
    public boolean allowsAnyThread() { return compareTo(SERIALIZED) >= 0; }
}
