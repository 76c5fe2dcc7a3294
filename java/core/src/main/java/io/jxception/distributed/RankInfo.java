package io.jxception.distributed;

import java.util.List;
import java.util.Map;

/**
 * Where this process stands in a job, from what its launcher published in the environment (or from
 * an explicit {@code --shard i/n}), without any MPI library: sharded inference uses it when no MPI
 * is installed, the device choice {@code cuda:local} uses its local rank, and
 * {@link Communicators#fromEnvironment()} uses it to decide whether this process is one of many.
 *
 * <p>The launchers are consulted nearest first, and rank, size and local rank always come from the
 * same one, because an outer launcher's variables are inherited by an inner launcher's processes:
 * under {@code mpirun} inside a SLURM allocation every rank sees the {@code SLURM_*} values of the
 * daemon that started it (local id 0 on every node), next to the correct {@code OMPI_*} ones.
 * <ol>
 *   <li>Open MPI's mpirun: {@code OMPI_COMM_WORLD_RANK}, {@code OMPI_COMM_WORLD_SIZE},
 *       {@code OMPI_COMM_WORLD_LOCAL_RANK}, {@code OMPI_COMM_WORLD_LOCAL_SIZE};</li>
 *   <li>MPICH's Hydra (also Intel MPI): {@code PMI_RANK}, {@code PMI_SIZE}, {@code MPI_LOCALRANKID},
 *       {@code MPI_LOCALNRANKS};</li>
 *   <li>MVAPICH: {@code MV2_COMM_WORLD_RANK}, {@code MV2_COMM_WORLD_SIZE},
 *       {@code MV2_COMM_WORLD_LOCAL_RANK}, {@code MV2_COMM_WORLD_LOCAL_SIZE};</li>
 *   <li>a SLURM job step started by srun: {@code SLURM_PROCID}, {@code SLURM_STEP_NUM_TASKS},
 *       {@code SLURM_LOCALID}. Not {@code SLURM_NTASKS}: that is the allocation's task count, which
 *       a batch script (one process) sees too.</li>
 * </ol>
 * When no launcher set both its rank and its size, the process is alone (rank 0 of 1) and the first
 * local-rank variable that is set still gives its local rank ({@code LOCAL_RANK} last: torchrun's,
 * and a common convention).
 *
 * <p>Immutable and thread-safe.
 *
 * @param rank       this process's rank, 0 ≤ rank &lt; size
 * @param size       number of processes in the job (1 when nothing says otherwise)
 * @param localRank  rank among the processes on this node (0 when unknown)
 * @param localSize  number of processes on this node, or 0 when the launcher does not say
 * @param source     which variables (or option) gave these values, for messages: e.g.
 *                   "OMPI_COMM_WORLD_RANK=1, OMPI_COMM_WORLD_SIZE=2"
 */
public record RankInfo(int rank, int size, int localRank, int localSize, String source) {
    /** One launcher's variable names. */
    private record Launcher(String rank, String size, String localRank, String localSize) {}

    private static final List<Launcher> LAUNCHERS = List.of(
            new Launcher("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE"),
            new Launcher("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"),
            new Launcher("MV2_COMM_WORLD_RANK", "MV2_COMM_WORLD_SIZE", "MV2_COMM_WORLD_LOCAL_RANK", "MV2_COMM_WORLD_LOCAL_SIZE"),
            new Launcher("SLURM_PROCID", "SLURM_STEP_NUM_TASKS", "SLURM_LOCALID", null));

    /** Every variable that can carry a local rank, in the order they are consulted. */
    public static final List<String> LOCAL_RANK_VARIABLES = List.of(
            "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "MV2_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "LOCAL_RANK");

    /** Checks that the values are consistent: 0 ≤ rank &lt; size, 0 ≤ localRank &lt; localSize (when known), a source. */
    public RankInfo {
        if (size < 1) throw new IllegalArgumentException("a job has at least one process, got size " + size + " (" + source + ")");
        if (rank < 0 || rank >= size) throw new IllegalArgumentException("rank " + rank + " is outside [0, " + size + ") (" + source + ")");
        if (localRank < 0) throw new IllegalArgumentException("local rank " + localRank + " is negative (" + source + ")");
        if (localSize < 0 || (localSize > 0 && localRank >= localSize)) {
            throw new IllegalArgumentException("local rank " + localRank + " does not fit a local size of " + localSize + " (" + source + ")");
        }
        if (source == null || source.isBlank()) throw new IllegalArgumentException("source must say where the values came from");
    }

    /** This process alone: rank 0 of 1. */
    public static RankInfo single() {
        return new RankInfo(0, 1, 0, 1, "single process");
    }

    /** Whether the job has more than one process. */
    public boolean isMultiProcess() { return size > 1; }

    /**
     * Rank and size from the first launcher (in the order above) that set both its rank and its
     * size variable; {@link #single()} with the generic {@code LOCAL_RANK} applied when none did.
     *
     * @throws IllegalArgumentException when a variable that is consulted is not a number, or the
     *                                  values contradict each other (rank ≥ size)
     */
    public static RankInfo fromEnvironment(Map<String, String> env) {
        for (Launcher l : LAUNCHERS) {
            String r = value(env, l.rank()), s = value(env, l.size());
            if (r == null || s == null) continue;
            int rank = parse(l.rank(), r), size = parse(l.size(), s);
            String lr = value(env, l.localRank());
            String ls = l.localSize() == null ? null : value(env, l.localSize());
            int localRank = lr == null ? 0 : parse(l.localRank(), lr);
            int localSize = ls == null ? 0 : parse(l.localSize(), ls);
            StringBuilder source = new StringBuilder(l.rank() + "=" + rank + ", " + l.size() + "=" + size);
            if (lr != null) source.append(", ").append(l.localRank()).append('=').append(localRank);
            if (size < 1) throw new IllegalArgumentException(l.size() + "=" + s + " is not a process count (at least 1)");
            if (rank >= size) throw new IllegalArgumentException(l.rank() + "=" + r + " is not below " + l.size() + "=" + s);
            return new RankInfo(rank, size, localRank, localSize, source.toString());
        }
        for (String v : LOCAL_RANK_VARIABLES) {
            String lr = value(env, v);
            if (lr != null) return new RankInfo(0, 1, parse(v, lr), 0, v + "=" + lr + " (no launcher's rank and size set)");
        }
        return single();
    }

    /**
     * This process's rank among the processes of its node, as the launcher published it, from the
     * same variables and in the same order as {@link #fromEnvironment}: the first local-rank variable
     * of {@link #LOCAL_RANK_VARIABLES} that is set, 0 when none is.
     *
     * @throws IllegalArgumentException when that variable is not a non-negative integer
     */
    public static int localRank(Map<String, String> env) {
        for (String v : LOCAL_RANK_VARIABLES) {
            String s = value(env, v);
            if (s != null) return parse(v, s);
        }
        return 0;
    }

    /**
     * An explicit shard, {@code "i/n"} as given to {@code --shard}: rank i of n (0 ≤ i &lt; n).
     *
     * @throws IllegalArgumentException with what was wrong and the expected form
     */
    public static RankInfo parseShard(String shard) {
        String s = shard == null ? "" : shard.strip();
        int slash = s.indexOf('/');
        if (slash <= 0 || slash == s.length() - 1) {
            throw new IllegalArgumentException("--shard " + shard + " is not of the form i/n (this process's shard i of n, 0 ≤ i < n), e.g. 0/4");
        }
        int i, n;
        try {
            i = Integer.parseInt(s.substring(0, slash).strip());
            n = Integer.parseInt(s.substring(slash + 1).strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--shard " + shard + " is not of the form i/n with whole numbers, e.g. 0/4");
        }
        if (n < 1) throw new IllegalArgumentException("--shard " + shard + ": the number of shards must be at least 1");
        if (i < 0 || i >= n) throw new IllegalArgumentException("--shard " + shard + ": the shard index must be in [0, " + n + "), shards are numbered from 0");
        return new RankInfo(i, n, 0, 0, "--shard " + i + "/" + n);
    }

    /** A contiguous range of items [first, first + count). */
    public record Share(long first, long count) {
        /** One past the last item. */
        public long end() { return first + count; }
    }

    /**
     * The contiguous share of {@code items} items that this rank takes, the first {@code items % size}
     * ranks taking one more than the others, so that the shares of ranks 0..size-1 concatenated in
     * rank order are exactly 0..items-1 (what sharded inference needs to reproduce a single-process
     * output by concatenation).
     */
    public Share share(long items) {
        if (items < 0) throw new IllegalArgumentException("item count must be non-negative, got " + items);
        long base = items / size, extra = items % size;
        return new Share(rank * base + Math.min(rank, extra), base + (rank < extra ? 1 : 0));
    }

    private static String value(Map<String, String> env, String name) {
        if (name == null) return null;
        String v = env.get(name);
        return v == null || v.isBlank() ? null : v.strip();
    }

    private static int parse(String name, String value) {
        try {
            int n = Integer.parseInt(value);
            if (n < 0) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + "=" + value + " is not a rank or process count (a non-negative integer): check the job launcher's environment");
        }
    }
}
