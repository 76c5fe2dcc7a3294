package io.jxception.distributed;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;

/**
 * The program that {@link CommunicatorUnderMpirunTest} starts on every rank with mpirun: one
 * scenario per run, named by the first argument ({@code collectives [THREAD_LEVEL]}, {@code open},
 * {@code exit-before-allreduce}, {@code sigkill-before-allreduce}, {@code abort-before-allreduce}). Each rank checks what it can check alone (it can
 * regenerate every rank's seeded data) and prints one line per fact, {@code R <rank> <key> <value>},
 * for the test to compare across ranks. A check that fails prints {@code R <rank> FAIL <what>} and
 * the program exits with 1 after closing.
 */
public final class MpiScenarios {
    /** 1 MiB of staging, so that a few hundred thousand floats already take several pieces (and rounds of gatherv). */
    static final int STAGING_BYTES = 1 << 20;
    private static final MpiOptions OPTIONS = MpiOptions.defaults().withStagingBytes(STAGING_BYTES);
    private static int rank = -1;
    private static boolean failed;

    public static void main(String[] args) throws Exception {
        String scenario = args.length > 0 ? args[0] : "";
        switch (scenario) {
            case "collectives" -> collectives(args.length > 1 ? ThreadLevel.valueOf(args[1]) : ThreadLevel.SERIALIZED);
            case "exit-before-allreduce", "sigkill-before-allreduce", "abort-before-allreduce" -> rankDies(scenario);
            case "open" -> open();
            default -> throw new IllegalArgumentException("unknown scenario '" + scenario + "'");
        }
        System.out.flush();
        System.exit(failed ? 1 : 0);
    }

    private static void print(String key, Object value) {
        System.out.println("R " + rank + " " + key + " " + value);
        System.out.flush();
    }

    private static void check(boolean ok, String what) {
        if (ok) {
            print("ok", what);
        } else {
            failed = true;
            print("FAIL", what);
        }
    }

    /** Opens the communicator of the environment and prints what it is, or the error. */
    private static void open() {
        try (Communicator c = Communicators.fromEnvironment()) {
            rank = c.rank();
            print("size", c.size());
            print("description", c.description());
        } catch (CommunicatorException e) {
            System.out.println("ERROR " + e.getMessage());
            failed = true;
        }
    }

    /** Every collective, on a communicator that asked MPI for {@code level}. */
    private static void collectives(ThreadLevel level) throws Exception {
        try (Communicator c = Communicators.open(System.getenv(), OPTIONS.withThreadLevel(level))) {
            rank = c.rank();
            int n = c.size();
            print("size", n);
            print("localRank", c.localRank());
            print("localSize", c.localSize());
            print("threadLevel", c.threadLevel());
            print("description", c.description());

            timed("allreduce-float", () -> allreduceFloat(c, n, 100_003, "allreduce-float"));
            timed("allreduce-float-chunked", () -> allreduceAcrossChunks(c, n));
            timed("allreduce-double", () -> allreduceDouble(c, n));
            timed("allreduce-subrange", () -> allreduceSubrangeLeavesTheRestAlone(c, n));
            timed("allreduce-direct", () -> allreduceDirectBuffer(c, n));
            timed("iallreduce", () -> iallreduceOverlapsComputation(c, n));
            timed("broadcast", () -> broadcasts(c, n));
            timed("gatherv", () -> gathervs(c, n));
            timed("barrier", () -> barrier(c, n));
            timed("other-thread", () -> otherThread(c));
            timed("jvm-signals", MpiScenarios::jvmSignalsStillWork);
        }
        print("closed", true);
        try (Communicator again = Communicators.open(System.getenv(), OPTIONS)) {
            check(false, "reopen-after-finalize threw nothing (got " + again.description() + ")");
        } catch (CommunicatorException e) {
            check(e.getMessage().contains("cannot be initialised twice"), "reopen-after-finalize: " + e.getMessage());
        }
    }

    private interface Step { void run() throws Exception; }

    private static void timed(String name, Step step) throws Exception {
        long t0 = System.nanoTime();
        step.run();
        print("ms " + name, (System.nanoTime() - t0) / 1_000_000);
    }

    /** Rank r's data: seeded floats in [-1, 1) scaled by 1, 1e3 and 1e-3 in turn (sums of mixed magnitudes). */
    static float[] floats(int r, int length) {
        Random random = new Random(1000 + r);
        float[] x = new float[length];
        for (int i = 0; i < length; i++) x[i] = (random.nextFloat() * 2 - 1) * (i % 3 == 0 ? 1f : i % 3 == 1 ? 1e3f : 1e-3f);
        return x;
    }

    /**
     * Checks the sum against every rank's regenerated data: bit for bit the float sum a + b for two
     * ranks, within γ(n−1)·Σ|x| otherwise; prints a CRC of the result's bits so the test can see that
     * every rank holds the same bits.
     */
    private static void allreduceFloat(Communicator c, int n, int length, String name) {
        float[] data = floats(rank, length);
        c.allreduceSum(data);
        checkFloatSum(n, data, name);
    }

    private static void checkFloatSum(int n, float[] data, String name) {
        int length = data.length;
        float[][] all = new float[n][];
        for (int r = 0; r < n; r++) all[r] = floats(r, length);
        double u = Math.scalb(1.0, -24), gamma = (n - 1) * u / (1 - (n - 1) * u);
        int exactMismatches = 0, outOfBound = 0;
        double worstRatio = 0;
        for (int i = 0; i < length; i++) {
            double exact = 0, magnitude = 0;
            float inOrder = 0;
            for (int r = 0; r < n; r++) {
                exact += all[r][i];
                magnitude += Math.abs(all[r][i]);
                inOrder += all[r][i];
            }
            if (Float.floatToRawIntBits(inOrder) != Float.floatToRawIntBits(data[i])) exactMismatches++;
            double error = Math.abs(data[i] - exact), bound = gamma * magnitude;
            if (error > bound) outOfBound++;
            if (bound > 0) worstRatio = Math.max(worstRatio, error / bound);
        }
        if (n == 2) check(exactMismatches == 0, name + " bitwise equal to the float sum a+b (" + exactMismatches + " of " + length + " differ)");
        check(outOfBound == 0, name + " within gamma(n-1)*sum|x| (" + outOfBound + " of " + length + " outside; worst error/bound " + worstRatio + ")");
        print("crc " + name, crc(data));
    }

    /**
     * Three staging pieces and a bit of small integers, whose sums are exact in any order: checks
     * that every piece lands where it belongs.
     */
    private static void allreduceAcrossChunks(Communicator c, int n) {
        int length = 3 * STAGING_BYTES / Float.BYTES + 1001;
        float[] data = new float[length];
        for (int i = 0; i < length; i++) data[i] = (i % 4093) * (rank + 1);
        c.allreduceSum(data);
        int wrong = 0;
        for (int i = 0; i < length; i++) if (data[i] != (i % 4093) * (n * (n + 1) / 2)) wrong++;
        check(wrong == 0, "allreduce-float-chunked " + length + " floats, four staging pieces (" + wrong + " wrong)");
    }

    /** Across two staging pieces (131072 doubles each). */
    private static void allreduceDouble(Communicator c, int n) {
        int length = 150_001;
        double[] data = new double[length];
        double[][] all = new double[n][length];
        for (int r = 0; r < n; r++) {
            Random random = new Random(2000 + r);
            for (int i = 0; i < length; i++) all[r][i] = (random.nextDouble() * 2 - 1) * Math.pow(10, i % 7 - 3);
        }
        System.arraycopy(all[rank], 0, data, 0, length);
        c.allreduceSum(data);
        double u = Math.scalb(1.0, -53), gamma = (n - 1) * u / (1 - (n - 1) * u);
        int bad = 0, exactMismatches = 0;
        for (int i = 0; i < length; i++) {
            double inOrder = 0, magnitude = 0;
            for (int r = 0; r < n; r++) {
                inOrder += all[r][i];
                magnitude += Math.abs(all[r][i]);
            }
            if (Double.doubleToRawLongBits(inOrder) != Double.doubleToRawLongBits(data[i])) exactMismatches++;
            // the rank-order sum is itself within gamma*magnitude of the exact sum: allow both errors
            if (Math.abs(data[i] - inOrder) > 2 * gamma * magnitude) bad++;
        }
        if (n == 2) check(exactMismatches == 0, "allreduce-double bitwise equal to a+b (" + exactMismatches + " differ)");
        check(bad == 0, "allreduce-double within 2*gamma(n-1)*sum|x| of the rank-order sum (" + bad + " outside)");
        long crc = 0;
        for (double v : data) crc = crc * 31 + Double.doubleToRawLongBits(v);
        print("crc allreduce-double", crc);
    }

    private static void allreduceSubrangeLeavesTheRestAlone(Communicator c, int n) {
        float[] data = new float[100];
        Arrays.fill(data, rank + 1);
        c.allreduceSum(data, 10, 80);
        float sum = n * (n + 1) / 2f;
        boolean ok = true;
        for (int i = 0; i < 100; i++) ok &= data[i] == (i >= 10 && i < 90 ? sum : rank + 1);
        check(ok, "allreduce-subrange sums [10, 90) only");
    }

    private static void allreduceDirectBuffer(Communicator c, int n) {
        int length = 4099;
        FloatBuffer direct = ByteBuffer.allocateDirect(4 * (length + 5)).order(ByteOrder.nativeOrder()).asFloatBuffer();
        float[] mine = floats(rank, length);
        for (int i = 0; i < 5; i++) direct.put(-7f);
        direct.put(mine);
        direct.position(5);
        c.allreduceSum(direct);
        float[] got = new float[length];
        direct.position(5);
        direct.get(got);
        boolean headUntouched = direct.get(0) == -7f && direct.get(4) == -7f;
        check(headUntouched, "allreduce-direct leaves the elements before the position alone");
        checkFloatSum(n, got, "allreduce-direct");
    }

    /**
     * Two buckets started back to back (as backward would start them), awaited in reverse order,
     * with a computation in between that calls test() after each piece; the sums are checked as the
     * blocking ones are.
     */
    private static void iallreduceOverlapsComputation(Communicator c, int n) {
        float[] bucket1 = floats(rank, 300_007);
        float[] bucket2 = floats(rank, 1_000);
        AllreduceRequest r1 = c.iallreduceSum(bucket1, 0, bucket1.length);
        AllreduceRequest r2 = c.iallreduceSum(bucket2, 0, bucket2.length);
        double work = 0;
        int tests = 0, piecesBeforeComplete = -1;
        for (int piece = 0; piece < 200; piece++) {
            for (int i = 0; i < 20_000; i++) work += Math.sqrt(i + piece);
            tests++;
            if (r1.test() && piecesBeforeComplete < 0) piecesBeforeComplete = piece + 1;
        }
        r2.await();
        r1.await();
        check(r1.isComplete() && r2.isComplete(), "iallreduce both requests complete (work " + (long) work + ", " + tests + " tests, bucket 1 complete after "
                + piecesBeforeComplete + " pieces of computation)");
        checkFloatSum(n, bucket1, "iallreduce-bucket1");
        checkFloatSum(n, bucket2, "iallreduce-bucket2");
        // a direct buffer, and a request awaited without any test
        FloatBuffer direct = ByteBuffer.allocateDirect(4 * 777).order(ByteOrder.nativeOrder()).asFloatBuffer();
        direct.put(floats(rank, 777)).flip();
        c.iallreduceSum(direct).await();
        float[] got = new float[777];
        direct.get(got);
        checkFloatSum(n, got, "iallreduce-direct");
    }

    private static void broadcasts(Communicator c, int n) {
        int root = n - 1;
        float[] data = rank == root ? floats(99, 10_000) : new float[10_000];
        c.broadcast(data, root);
        check(Arrays.equals(data, floats(99, 10_000)), "broadcast-float from root " + root);
        float[] partial = new float[10];
        Arrays.fill(partial, rank);
        c.broadcast(partial, 2, 5, 0);
        boolean ok = true;
        for (int i = 0; i < 10; i++) ok &= partial[i] == (i >= 2 && i < 7 ? 0 : rank);
        check(ok, "broadcast-float range [2, 7) only");
        String text = "checkpoint-step-" + 12345 + "-é";
        byte[] got = c.broadcast(rank == 0 ? text.getBytes(StandardCharsets.UTF_8) : null, 0);
        check(text.equals(new String(got, StandardCharsets.UTF_8)), "broadcast-bytes of a length only root knows");
        byte[] empty = c.broadcast(rank == root ? new byte[0] : null, root);
        check(empty.length == 0, "broadcast-bytes of an empty message");
        byte[] large = new byte[STAGING_BYTES * 5 / 2];
        for (int i = 0; i < large.length; i++) large[i] = (byte) (i * 7 + 1);
        byte[] gotLarge = c.broadcast(rank == root ? large : null, root);
        check(Arrays.equals(large, gotLarge), "broadcast-bytes of 2.5 staging pieces");
        float[] many = new float[STAGING_BYTES / 2 + 3];
        if (rank == 0) for (int i = 0; i < many.length; i++) many[i] = i;
        c.broadcast(many, 0);
        boolean sameMany = true;
        for (int i = 0; i < many.length; i++) sameMany &= many[i] == i;
        check(sameMany, "broadcast-float of 2 staging pieces");
    }

    /** Rank r sends 3r+1 floats r·1000 + i to root 0; then rank 1 sends none to the last rank; then bytes. */
    private static void gathervs(Communicator c, int n) {
        float[] mine = new float[3 * rank + 1 + 4];
        for (int i = 0; i < mine.length; i++) mine[i] = rank * 1000 + i - 2;
        float[][] got = c.gatherv(mine, 2, 3 * rank + 1, 0);
        if (rank == 0) {
            boolean ok = got.length == n;
            for (int r = 0; ok && r < n; r++) {
                ok = got[r].length == 3 * r + 1;
                for (int i = 0; ok && i < got[r].length; i++) ok = got[r][i] == r * 1000 + i;
            }
            check(ok, "gatherv-float unequal lengths 1, 4, 7, ... at root 0");
        } else {
            check(got.length == 0, "gatherv-float gives non-root ranks nothing");
        }
        int root = n - 1;
        float[] some = floats(rank, 5);
        float[][] g2 = c.gatherv(some, 0, rank == 1 ? 0 : 5, root);
        if (rank == root) {
            boolean ok = g2.length == n;
            for (int r = 0; ok && r < n; r++) ok = Arrays.equals(g2[r], r == 1 ? new float[0] : floats(r, 5));
            check(ok, "gatherv-float with an empty part from rank 1 at root " + root);
        }
        byte[] text = ("rank " + rank + " says " + "x".repeat(rank * 50)).getBytes(StandardCharsets.UTF_8);
        byte[][] g3 = c.gatherv(text, 0, text.length, 0);
        if (rank == 0) {
            boolean ok = g3.length == n;
            for (int r = 0; ok && r < n; r++) ok = new String(g3[r], StandardCharsets.UTF_8).equals("rank " + r + " says " + "x".repeat(r * 50));
            check(ok, "gatherv-bytes unequal lengths at root 0");
        }
        // several rounds: the last rank sends 400 000 floats, more than 1 MiB / 4 / n per round
        int big = 400_000;
        float[] large = new float[rank == n - 1 ? big : 3];
        for (int i = 0; i < large.length; i++) large[i] = i + rank;
        float[][] g4 = c.gatherv(large, 0, large.length, 0);
        if (rank == 0) {
            boolean ok = g4.length == n;
            for (int r = 0; ok && r < n; r++) {
                ok = g4[r].length == (r == n - 1 ? big : 3);
                for (int i = 0; ok && i < g4[r].length; i++) ok = g4[r][i] == (float) (i + r);
            }
            check(ok, "gatherv-float of 400000 floats from the last rank (several rounds)");
        }
    }

    /** The last rank arrives 300 ms late; every rank prints when it entered and left (System.nanoTime is one clock for every process of a host). */
    private static void barrier(Communicator c, int n) throws InterruptedException {
        c.barrier();
        if (rank == n - 1) Thread.sleep(300);
        print("barrier-enter", System.nanoTime());
        c.barrier();
        print("barrier-exit", System.nanoTime());
    }

    /** A call from another thread: allowed (and serialised) under SERIALIZED or MULTIPLE, refused under FUNNELED or SINGLE. */
    private static void otherThread(Communicator c) throws InterruptedException {
        Throwable[] thrown = new Throwable[1];
        Thread t = new Thread(() -> {
            try {
                c.barrier();
            } catch (Throwable e) {
                thrown[0] = e;
            }
        }, "not-the-mpi-thread");
        t.start();
        t.join();
        if (c.threadLevel().allowsAnyThread()) {
            check(thrown[0] == null, "barrier from another thread under " + c.threadLevel() + (thrown[0] == null ? "" : ": " + thrown[0]));
        } else {
            check(thrown[0] instanceof IllegalStateException, "barrier from another thread refused under " + c.threadLevel());
            c.barrier(); // keep the ranks' calls matched
        }
    }

    /**
     * The JVM handles SIGSEGV itself (stack banging, implicit null checks). Open MPI installs its own
     * handlers for SIGSEGV and others in MPI_Init, but only where none is installed yet: a stack
     * overflow and many NullPointerExceptions after MPI_Init prove the JVM's are still in place (with
     * Open MPI's in their stead the process would end with a backtrace).
     */
    private static void jvmSignalsStillWork() {
        int depth;
        try {
            depth = recurse(0);
        } catch (StackOverflowError e) {
            depth = -1;
        }
        int caught = 0;
        int[] array = new int[3];
        for (int i = 0; i < 200_000; i++) {
            try {
                caught += length(i % 1000 == 0 ? null : array) == 3 ? 0 : 1;
            } catch (NullPointerException e) {
                caught++;
            }
        }
        check(depth == -1 && caught == 200, "jvm-signals: StackOverflowError and NullPointerExceptions after MPI_Init");
    }

    private static int recurse(int depth) {
        return recurse(depth + 1) + 1;
    }

    private static int length(int[] a) {
        return a.length;
    }

    /**
     * Rank 1 ends during the job (System.exit(3), SIGKILL, or MPI_Abort(5)) while rank 0 enters an
     * allreduce that can never complete. The launcher has to end the job: the test's timeout proves
     * that nothing hangs. Rank 0 prints a line should the allreduce ever return.
     */
    private static void rankDies(String how) throws Exception {
        Communicator c = Communicators.fromEnvironment();
        rank = c.rank();
        print("opened", c.size());
        c.barrier();
        if (rank == 1) {
            print("dying", how);
            switch (how) {
                case "exit-before-allreduce" -> System.exit(3);
                case "sigkill-before-allreduce" -> {
                    new ProcessBuilder("kill", "-KILL", Long.toString(ProcessHandle.current().pid())).inheritIO().start().waitFor();
                    Thread.sleep(60_000);
                }
                case "abort-before-allreduce" -> c.abortJob(5);
                default -> throw new IllegalArgumentException(how);
            }
        }
        float[] data = new float[1000];
        c.allreduceSum(data);
        print("allreduce-returned", "(it should not have)");
        c.close();
    }

    private static long crc(float[] data) {
        CRC32 crc = new CRC32();
        ByteBuffer b = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(data);
        crc.update(b.array());
        return crc.getValue();
    }
}
