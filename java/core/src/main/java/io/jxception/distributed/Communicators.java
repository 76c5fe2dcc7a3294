package io.jxception.distributed;

import io.jxception.internal.distributed.MpiCommunicator;
import io.jxception.internal.distributed.MpiLibrary;

import java.util.List;
import java.util.Map;

/**
 * Opens the {@link Communicator} of this process: MPI when its launcher started several processes,
 * a single process otherwise. Never a silent fallback: a process that its launcher started as one of
 * several either gets an MPI communicator of exactly that rank and size, or a
 * {@link CommunicatorException} that says what is missing (no hang, no crash).
 *
 * <p>Thread-safety: the methods may be called from any thread; MPI's once-per-process
 * initialisation is guarded (see {@link Communicator#close()}).
 */
public final class Communicators {
    private static final System.Logger LOG = System.getLogger(Communicators.class.getName());

    private Communicators() {}

    /** {@link #open(Map, MpiOptions)} with this process's environment and {@link MpiOptions#defaults()}. */
    public static Communicator fromEnvironment() {
        return open(System.getenv(), MpiOptions.defaults());
    }

    /**
     * MPI when {@code env} says the launcher started more than one process ({@link RankInfo}:
     * mpirun, Hydra, MVAPICH or srun), the single-process communicator otherwise (also under
     * {@code mpirun -np 1}: one process needs no MPI).
     *
     * @throws CommunicatorException when the environment says "several processes" but no MPI library
     *                               loads, or MPI's world is not the one the launcher announced
     *                               (a library of another MPI than the launcher's)
     * @throws IllegalArgumentException when a launcher variable is malformed
     */
    public static Communicator open(Map<String, String> env, MpiOptions options) {
        RankInfo launch = RankInfo.fromEnvironment(env);
        if (!launch.isMultiProcess()) {
            LOG.log(System.Logger.Level.DEBUG, () -> "single process (" + launch.source() + "): no MPI");
            return singleProcess();
        }
        MpiCommunicator c = openMpi(env, options, launch);
        if (c.size() != launch.size() || c.rank() != launch.rank()) {
            String message = "the launcher started this process as rank " + launch.rank() + " of " + launch.size() + " (" + launch.source()
                    + ") but MPI_Init of " + c.library().file() + " (" + c.library().shortVersion() + ") made it rank " + c.rank() + " of " + c.size()
                    + ": that library does not belong to the launcher that started the job (under another MPI's launcher each process starts alone)."
                    + " Set " + MpiOptions.LIBRARY_VARIABLE + " to the launcher's libmpi (Open MPI: libmpi.so.40; MPICH: libmpich.so.12 or libmpi.so.12)";
            // a world of one is local to this process and can be finalised; a larger one cannot without the others
            if (c.size() == 1) c.close();
            throw new CommunicatorException(message);
        }
        return c;
    }

    /**
     * MPI whatever the environment says: for {@code mpirun -np 1} runs that should still go through
     * MPI, or launchers that publish none of {@link RankInfo}'s variables.
     *
     * @throws CommunicatorException when no MPI library loads
     */
    public static Communicator mpi(Map<String, String> env, MpiOptions options) {
        return openMpi(env, options, RankInfo.fromEnvironment(env));
    }

    /** Rank 0 of 1, every collective the identity: the library unchanged, without MPI. */
    public static Communicator singleProcess() {
        return new SingleProcessCommunicator();
    }

    private static MpiCommunicator openMpi(Map<String, String> env, MpiOptions options, RankInfo launch) {
        List<String> candidates = libraryCandidates(env, options);
        MpiLibrary library;
        try {
            library = MpiLibrary.load(candidates);
        } catch (CommunicatorException | UnsatisfiedLinkError | NoClassDefFoundError e) {
            String started = launch.isMultiProcess()
                    ? "the launcher started this process as rank " + launch.rank() + " of " + launch.size() + " (" + launch.source() + ") but "
                    : "";
            throw new CommunicatorException(started + (e instanceof CommunicatorException ? e.getMessage() : "JNA could not load its native part: " + e)
                    + ". Install the MPI of the launcher that started the job (Debian: apt-get install openmpi-bin) or set "
                    + MpiOptions.LIBRARY_VARIABLE + " to its libmpi (a path or a soname)", e);
        }
        MpiCommunicator c = MpiCommunicator.open(library, options.threadLevel(), options.stagingBytes());
        LOG.log(System.Logger.Level.DEBUG, c::description);
        return c;
    }

    /**
     * The libmpi names to try, in order: the one the options or {@value MpiOptions#LIBRARY_VARIABLE}
     * name, else the launcher's own (Open MPI 4 and 5 are libmpi.so.40; MPICH-ABI libraries are
     * libmpi.so.12, Debian's MPICH libmpich.so.12), then the system's default libmpi.so.
     */
    static List<String> libraryCandidates(Map<String, String> env, MpiOptions options) {
        String named = options.library() != null ? options.library() : env.get(MpiOptions.LIBRARY_VARIABLE);
        if (named != null && !named.isBlank()) return List.of(named.strip());
        if (env.containsKey("OMPI_COMM_WORLD_SIZE")) return List.of("libmpi.so.40", "libmpi.so");
        if (env.containsKey("PMI_SIZE") || env.containsKey("MV2_COMM_WORLD_SIZE")) return List.of("libmpi.so.12", "libmpich.so.12", "libmpi.so");
        return List.of("libmpi.so", "libmpi.so.40", "libmpi.so.12", "libmpich.so.12");
    }
}
