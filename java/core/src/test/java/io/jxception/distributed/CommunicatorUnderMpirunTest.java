package io.jxception.distributed;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The MPI communicator under a real Open MPI {@code mpirun} on this machine's loopback: each test
 * starts {@link MpiScenarios} on every rank and reads what each rank printed. Every run has a
 * timeout, so a test that would hang fails instead (that is the point of the tests where a rank
 * dies).
 *
 * <p>Without Open MPI's mpirun on the PATH the tests are skipped with the reason, except under
 * {@code CI=true}, where that is a failure: CI installs Open MPI ({@code apt-get install -y
 * openmpi-bin}). The MPICH test runs where Debian's {@code mpich} package is installed and is
 * skipped elsewhere, CI included.
 */
class CommunicatorUnderMpirunTest {
    /** Each test is reported skipped, with the reason, where Open MPI is missing; under CI=true each fails instead. */
    @BeforeEach
    void requireOpenMpi() throws Exception {
        Mpirun.require();
    }

    @Test
    void twoRanksAgreeOnEveryCollective() throws Exception {
        Mpirun.Run run = mpirun(2, "collectives", 120);
        assertEquals(0, run.exitCode(), run.output());
        Map<Integer, Map<String, List<String>>> ranks = run.byRank();
        assertEquals(Set.of(0, 1), ranks.keySet(), run.output());
        for (int r = 0; r < 2; r++) {
            Map<String, List<String>> facts = ranks.get(r);
            assertEquals(List.of("2"), facts.get("size"), run.output());
            assertEquals(List.of(Integer.toString(r)), facts.get("localRank"), "both ranks run on this machine");
            assertEquals(List.of("2"), facts.get("localSize"));
            assertEquals(List.of("SERIALIZED"), facts.get("threadLevel"), "the level asked for by default, which Open MPI grants");
            assertTrue(facts.get("description").get(0).startsWith("MPI (Open MPI v"), facts.get("description").toString());
            assertNull(facts.get("FAIL"), run.output());
            List<String> ok = facts.get("ok");
            for (String check : List.of("allreduce-float bitwise equal to the float sum a+b", "allreduce-float within",
                    "allreduce-float-chunked", "allreduce-double bitwise equal", "allreduce-subrange", "allreduce-direct bitwise equal",
                    "iallreduce both requests complete", "iallreduce-bucket1 bitwise equal", "iallreduce-bucket2 bitwise equal", "iallreduce-direct bitwise equal",
                    "broadcast-float from root 1", "broadcast-float range", "broadcast-bytes of a length only root knows", "broadcast-bytes of an empty message",
                    "broadcast-bytes of 2.5 staging pieces", "broadcast-float of 2 staging pieces",
                    "barrier from another thread under SERIALIZED", "jvm-signals", "reopen-after-finalize")) {
                assertTrue(ok.stream().anyMatch(s -> s.startsWith(check)), "rank " + r + " did not pass '" + check + "':\n" + run.output());
            }
            assertEquals(List.of("true"), facts.get("closed"));
        }
        List<String> rootOk = ranks.get(0).get("ok");
        for (String check : List.of("gatherv-float unequal lengths", "gatherv-bytes unequal lengths", "gatherv-float of 400000 floats")) {
            assertTrue(rootOk.stream().anyMatch(s -> s.startsWith(check)), "root did not pass '" + check + "':\n" + run.output());
        }
        assertTrue(ranks.get(1).get("ok").stream().anyMatch(s -> s.startsWith("gatherv-float with an empty part from rank 1 at root 1")), run.output());
        assertSameBitsOnEveryRank(ranks, run);
        assertBarrierHeldEveryRank(ranks);
    }

    /** Three ranks (sums in an order MPI chooses) on a communicator that asked for FUNNELED: only the opening thread may call. */
    @Test
    void threeRanksSumWithinTheBoundAndAgreeBitwiseAndFunneledIsEnforced() throws Exception {
        Mpirun.Run run = mpirun(3, "collectives FUNNELED", 120);
        assertEquals(0, run.exitCode(), run.output());
        Map<Integer, Map<String, List<String>>> ranks = run.byRank();
        assertEquals(Set.of(0, 1, 2), ranks.keySet(), run.output());
        for (Map<String, List<String>> facts : ranks.values()) {
            assertNull(facts.get("FAIL"), run.output());
            assertTrue(facts.get("ok").stream().anyMatch(s -> s.startsWith("allreduce-float within gamma(n-1)*sum|x| (0 of")), run.output());
            assertTrue(facts.get("ok").stream().anyMatch(s -> s.startsWith("iallreduce-bucket1 within gamma(n-1)*sum|x| (0 of")), run.output());
            assertEquals(List.of("FUNNELED"), facts.get("threadLevel"), "Open MPI grants the level asked for");
            assertTrue(facts.get("ok").stream().anyMatch(s -> s.startsWith("barrier from another thread refused under FUNNELED")), run.output());
        }
        assertSameBitsOnEveryRank(ranks, run);
        assertBarrierHeldEveryRank(ranks);
    }

    @Test
    void aRankThatExitsMidJobEndsTheJobInsteadOfHanging() throws Exception {
        Mpirun.Run run = mpirun(2, "exit-before-allreduce", 60);
        assertEquals(3, run.exitCode(), run.output());
        assertTrue(run.output().contains("R 1 dying exit-before-allreduce"), run.output());
        assertTrue(Pattern.compile("Exit code:\\s+3").matcher(run.output()).find(), "mpirun names the exit code:\n" + run.output());
        assertFalse(run.output().contains("allreduce-returned"), "the surviving rank's allreduce cannot complete:\n" + run.output());
    }

    @Test
    void aRankKilledMidJobEndsTheJobInsteadOfHanging() throws Exception {
        Mpirun.Run run = mpirun(2, "sigkill-before-allreduce", 60);
        assertNotEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("process rank 1") && run.output().contains("exited on signal 9"), "mpirun names the rank and the signal:\n" + run.output());
        assertFalse(run.output().contains("allreduce-returned"), run.output());
    }

    @Test
    void abortJobEndsEveryRankWithItsCode() throws Exception {
        Mpirun.Run run = mpirun(2, "abort-before-allreduce", 60);
        assertEquals(5, run.exitCode(), "mpirun ends with the code given to abortJob:\n" + run.output());
        assertTrue(run.output().contains("R 1 dying abort-before-allreduce"), run.output());
        // Open MPI 4.1.4 prints "MPI_ABORT was invoked on rank 1 ... with errorcode 5", but now and then
        // fails to ("ORTE_ERROR_LOG: Data unpack would read past end of buffer ... show_help.c"): the
        // exit code is what is reliable, and the caller reports its own error before abortJob
        if (run.output().contains("MPI_ABORT was invoked")) assertTrue(run.output().contains("MPI_ABORT was invoked on rank 1"), run.output());
        assertFalse(run.output().contains("allreduce-returned"), run.output());
    }

    /**
     * A process whose environment says "rank 1 of 2" (as Open MPI's mpirun says it) but whose MPI
     * library starts it alone, as any libmpi does outside its own launcher: an error that says so,
     * not a silent single-process run. A plain java, no mpirun, so that MPI_Init makes a world of 1.
     */
    @Test
    void aWorldOfOneWhereTheLauncherAnnouncedTwoIsAnError() throws Exception {
        Mpirun.Run run = run(javaCommand("open"), Map.of("OMPI_COMM_WORLD_RANK", "1", "OMPI_COMM_WORLD_SIZE", "2"), 60);
        assertEquals(1, run.exitCode(), run.output());
        assertTrue(run.output().contains("ERROR the launcher started this process as rank 1 of 2 (OMPI_COMM_WORLD_RANK=1, OMPI_COMM_WORLD_SIZE=2)"
                + " but MPI_Init of libmpi.so.40 (Open MPI v"), run.output());
        assertTrue(run.output().contains("made it rank 0 of 1") && run.output().contains("JXCEPTION_MPI_LIBRARY"), run.output());
    }

    /** MPICH's ABI (int handles) under its own launcher, where Debian's mpich package is installed (not in CI). */
    @Test
    void mpichUnderHydraAgreesOnEveryCollective() throws Exception {
        Path hydra = onPath("mpirun.mpich");
        Assumptions.assumeTrue(hydra != null && Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libmpich.so.12")),
                "MPICH is not installed (apt-get install mpich): its ABI is checked where it is");
        List<String> command = new ArrayList<>(List.of(hydra.toString(), "-np", "2", "-env", "JXCEPTION_MPI_LIBRARY", "libmpich.so.12"));
        command.addAll(javaCommand("collectives"));
        Mpirun.Run run = run(command, Map.of(), 120);
        assertEquals(0, run.exitCode(), run.output());
        Map<Integer, Map<String, List<String>>> ranks = run.byRank();
        assertEquals(Set.of(0, 1), ranks.keySet(), run.output());
        for (Map<String, List<String>> facts : ranks.values()) {
            assertNull(facts.get("FAIL"), run.output());
            assertTrue(facts.get("description").get(0).startsWith("MPI (MPICH"), facts.get("description").toString());
            assertTrue(facts.get("ok").stream().anyMatch(s -> s.startsWith("jvm-signals")), "the JVM's signal handlers survive MPICH's init:\n" + run.output());
            assertTrue(facts.get("ok").stream().anyMatch(s -> s.startsWith("iallreduce-bucket1 bitwise equal")), run.output());
        }
        assertSameBitsOnEveryRank(ranks, run);
    }

    // ------------------------------------------------------------------ helpers

    /** Every "crc NAME VALUE" fact is the same on every rank: the ranks hold the same bits after each reduction. */
    private static void assertSameBitsOnEveryRank(Map<Integer, Map<String, List<String>>> ranks, Mpirun.Run run) {
        Map<String, String> first = null;
        for (Map<String, List<String>> facts : ranks.values()) {
            Map<String, String> crcs = new TreeMap<>();
            for (String line : facts.getOrDefault("crc", List.of())) {
                String[] p = line.split(" ");
                crcs.put(p[0], p[1]);
            }
            assertFalse(crcs.isEmpty(), run.output());
            if (first == null) first = crcs;
            else assertEquals(first, crcs, "every rank holds the same bits after each reduction");
        }
    }

    /** No rank left the second barrier before the last one entered it (System.nanoTime is one clock on one machine). */
    private static void assertBarrierHeldEveryRank(Map<Integer, Map<String, List<String>>> ranks) {
        long lastEnter = Long.MIN_VALUE, firstExit = Long.MAX_VALUE;
        for (Map<String, List<String>> facts : ranks.values()) {
            lastEnter = Math.max(lastEnter, Long.parseLong(facts.get("barrier-enter").get(0)));
            firstExit = Math.min(firstExit, Long.parseLong(facts.get("barrier-exit").get(0)));
        }
        assertTrue(firstExit >= lastEnter, "a rank left the barrier " + (lastEnter - firstExit) / 1e6 + " ms before the last rank entered it");
    }

    /** @param scenario {@link MpiScenarios}' arguments, separated by spaces */
    private static Mpirun.Run mpirun(int ranks, String scenario, int timeoutSeconds) throws Exception {
        return Mpirun.ranks(ranks, javaCommand(scenario.split(" ")), timeoutSeconds);
    }

    private static List<String> javaCommand(String... scenario) {
        return Mpirun.java(MpiScenarios.class, scenario);
    }

    private static Mpirun.Run run(List<String> command, Map<String, String> extraEnv, int timeoutSeconds) throws Exception {
        return Mpirun.run(command, extraEnv, timeoutSeconds);
    }

    private static Path onPath(String program) { return Mpirun.onPath(program); }
}
