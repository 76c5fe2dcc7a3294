package io.jxception.cli;

import io.jxception.distributed.Communicator;
import io.jxception.distributed.Communicators;
import io.jxception.distributed.RankInfo;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which images of a batch inference this process computes, and how the results become one output.
 * Shares are contiguous runs of whole batches ({@link RankInfo#share} over the batch count), so
 * every image is computed in the same batch as in a single-process run, and the shares of ranks
 * 0..n−1 in order are the whole input: the one output is bitwise a single-process run's.
 * <ul>
 *   <li>{@code --shard} not given, under mpirun or srun with several processes: MPI
 *       ({@link Communicators#fromEnvironment()}); rank 0 gathers every rank's results in rank
 *       order ({@link Communicator#gatherv}) and writes the one output; alone: everything.</li>
 *   <li>{@code --shard i/n}: shard i of n, no MPI; the process writes a part
 *       ({@link #partFile}) that {@code jxception merge} joins with the others.</li>
 *   <li>{@code --shard auto}: the same, with i and n from the launcher's variables
 *       ({@link RankInfo#fromEnvironment}: SLURM_PROCID, OMPI_COMM_WORLD_RANK, PMI_RANK, ...), for
 *       jobs without an MPI library.</li>
 * </ul>
 * Not thread-safe.
 */
final class Sharding implements AutoCloseable {
    /** "NAME.shard-I-of-N.EXT" (.npy, .csv or .jsonl): a part written with --shard. */
    static final Pattern PART = Pattern.compile("(.*)\\.shard-(\\d+)-of-(\\d+)\\.(npy|csv|jsonl)", Pattern.CASE_INSENSITIVE);

    private final Communicator comm;   // the job's communicator: MPI, or a single process
    private final RankInfo shard;      // this process's shard
    private final boolean parts;

    private Sharding(Communicator comm, RankInfo shard, boolean parts) {
        this.comm = comm;
        this.shard = shard;
        this.parts = parts;
    }

    /**
     * @param option {@code --shard}'s value: null, "auto" or "i/n"
     * @throws IllegalArgumentException for a malformed value (a usage error)
     */
    static Sharding open(String option) {
        if (option == null) {
            Communicator comm = Communicators.fromEnvironment();
            return new Sharding(comm, new RankInfo(comm.rank(), comm.size(), comm.localRank(), comm.localSize(), comm.description()), false);
        }
        RankInfo info = option.strip().equalsIgnoreCase("auto") ? RankInfo.fromEnvironment(System.getenv()) : RankInfo.parseShard(option);
        return new Sharding(Communicators.singleProcess(), info, true);
    }

    /** The job's communicator (a single process with {@code --shard}). */
    Communicator communicator() { return comm; }

    /** Whether rank 0 gathers the results of every rank (MPI with several processes). */
    boolean gathers() { return comm.size() > 1; }

    /** Whether this process writes a part for {@code jxception merge}. */
    boolean writesPart() { return parts; }

    /** Whether this process writes or prints the output (rank 0 when gathering, every part writer, a lone process). */
    boolean writesOutput() { return comm.rank() == 0; }

    /** "[rank r/n] " when ranks share one output, "" otherwise. */
    String prefix() { return JobFailure.prefix(comm); }

    /** For messages: "shard 1 of 4 (--shard 1/4)", or "" alone. */
    String describe() {
        return shard.size() == 1 && !parts ? "" : String.format(Locale.ROOT, "shard %d of %d (%s)", shard.rank(), shard.size(), shard.source());
    }

    /** This process's items [first, end) of {@code items} taken in batches of {@code batch}: whole batches, in rank order. */
    RankInfo.Share range(long items, int batch) {
        long batches = (items + batch - 1) / batch;
        RankInfo.Share s = shard.share(batches);
        long first = Math.min(items, s.first() * batch), end = Math.min(items, s.end() * batch);
        return new RankInfo.Share(first, end - first);
    }

    /** Every rank's floats in rank order at rank 0 (null elsewhere); collective. */
    float[] gather(float[] mine) {
        float[][] all = comm.gatherv(mine, 0, mine.length, 0);
        if (comm.rank() != 0) return null;
        int total = 0;
        for (float[] a : all) total = Math.addExact(total, a.length);
        float[] out = new float[total];
        int at = 0;
        for (float[] a : all) {
            System.arraycopy(a, 0, out, at, a.length);
            at += a.length;
        }
        return out;
    }

    /** Every rank's text in rank order at rank 0 (null elsewhere); collective. */
    String gather(String mine) {
        byte[] b = mine.getBytes(StandardCharsets.UTF_8);
        byte[][] all = comm.gatherv(b, 0, b.length, 0);
        if (comm.rank() != 0) return null;
        StringBuilder s = new StringBuilder();
        for (byte[] a : all) s.append(new String(a, StandardCharsets.UTF_8));
        return s.toString();
    }

    /** The part this shard writes for {@code output}: y.npy → y.shard-I-of-N.npy beside it (y.csv → y.shard-I-of-N.csv). */
    Path partFile(Path output) { return partFile(output, shard.rank(), shard.size()); }

    static Path partFile(Path output, int index, int count) {
        String name = output.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String stem = dot > 0 ? name.substring(0, dot) : name, extension = dot > 0 ? name.substring(dot) : ".npy";
        return output.resolveSibling(stem + ".shard-" + index + "-of-" + count + extension);
    }

    /** Every rank's names in rank order at rank 0 (null elsewhere); collective. Names hold no NUL (file names cannot). */
    java.util.List<String> gatherNames(java.util.List<String> mine) {
        StringBuilder s = new StringBuilder();
        for (String n : mine) s.append(n).append('\0');
        String all = gather(s.toString());
        if (all == null) return null;
        java.util.List<String> names = new java.util.ArrayList<>(java.util.List.of(all.split("\0", -1)));
        names.remove(names.size() - 1);   // after the last terminator
        return names;
    }

    /** A part's index and count from its name, or null when the name is not a part's. */
    static int[] partOf(Path part) {
        Matcher m = PART.matcher(part.getFileName().toString());
        if (!m.matches()) return null;
        return new int[]{Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3))};
    }

    @Override
    public void close() { comm.close(); }
}
