package io.jxception.distributed;

import org.junit.jupiter.api.Assumptions;

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
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs programs under a real Open MPI {@code mpirun} on this machine's loopback, for the tests of
 * every module that need several processes (the test-jar shares it). Every run has a timeout, so a
 * run that would hang fails the test instead, with what it printed.
 *
 * <p>Without Open MPI's mpirun on the PATH, {@link #require()} skips the test with the reason,
 * except under {@code CI=true}, where that is a failure: CI installs Open MPI
 * ({@code apt-get install -y openmpi-bin}).
 */
public final class Mpirun {
    /** Loopback only, shared memory between the ranks, no CMA (a container may forbid ptrace), every rank free to use both cores. */
    public static final List<String> OPEN_MPI_OPTIONS = List.of("--oversubscribe", "--bind-to", "none",
            "--mca", "btl", "self,vader", "--mca", "btl_vader_single_copy_mechanism", "none",
            "--mca", "oob_tcp_if_include", "lo",
            // ranks that wait yield the core: two or three JVMs share two cores with whatever else runs
            "--mca", "mpi_yield_when_idle", "1",
            // Open MPI 4.1's aggregated help messages fail to print more often ("Data unpack would read past end of buffer")
            "--mca", "orte_base_help_aggregate", "0");
    private static final Pattern LINE = Pattern.compile("^R (\\d+) (\\S+) ?(.*)$");

    private static String mpirun;
    /** Why the tests cannot run here (no Open MPI mpirun), or null. */
    private static String missing;
    private static boolean probed;

    private Mpirun() {}

    /** Open MPI's mpirun, or a skip (a failure under CI=true) where it is missing. */
    public static synchronized String require() throws IOException, InterruptedException {
        if (!probed) {
            probed = true;
            Path found = onPath("mpirun");
            if (found == null) {
                missing = "no mpirun on the PATH";
            } else {
                Run version = run(List.of(found.toString(), "--version"), Map.of(), 30);
                if (!version.output().contains("Open MPI")) missing = found + " is not Open MPI's mpirun (" + version.output().strip() + ")";
                else mpirun = found.toString();
            }
        }
        if (missing == null) return mpirun;
        if ("true".equals(System.getenv("CI"))) {
            fail("CI=true but " + missing + ": CI must install Open MPI (apt-get install -y openmpi-bin) so that the MPI tests run");
        }
        Assumptions.abort(missing + ": MPI test skipped (install Open MPI: apt-get install -y openmpi-bin)");
        return null;
    }

    /** {@code mpirun -np ranks} with {@link #OPEN_MPI_OPTIONS} running {@code program}; fails after {@code timeoutSeconds}. */
    public static Run ranks(int ranks, List<String> program, int timeoutSeconds) throws IOException, InterruptedException {
        return ranks(ranks, program, timeoutSeconds, null);
    }

    /**
     * As {@link #ranks(int, List, int)}; {@code watcher}, when given, sees the output as it grows
     * (on a background thread) with the mpirun process, e.g. to send it a signal once the job is
     * under way.
     */
    public static Run ranks(int ranks, List<String> program, int timeoutSeconds, Watcher watcher) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(require(), "-np", Integer.toString(ranks)));
        command.addAll(OPEN_MPI_OPTIONS);
        command.addAll(program);
        return run(command, Map.of(), timeoutSeconds, watcher);
    }

    /** The JVM of one rank running {@code mainClass} with this test run's class path: small heap, quick start. */
    public static List<String> java(Class<?> mainClass, String... args) {
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classPath, mainClass.getName()));
        command.addAll(List.of(args));
        return command;
    }

    /** Sees a run's output while it runs. */
    public interface Watcher {
        /** Called with everything printed so far, each time more arrives. */
        void output(String soFar, Process process);
    }

    /** What a run printed (stdout and stderr together) and its exit code. */
    public record Run(int exitCode, String output) {
        /** rank -> key -> values in order, from the "R rank key value" lines. */
        public Map<Integer, Map<String, List<String>>> byRank() {
            Map<Integer, Map<String, List<String>>> m = new TreeMap<>();
            for (String line : output.split("\n")) {
                Matcher x = LINE.matcher(line.strip());
                if (!x.matches()) continue;
                m.computeIfAbsent(Integer.parseInt(x.group(1)), k -> new TreeMap<>()).computeIfAbsent(x.group(2), k -> new ArrayList<>()).add(x.group(3));
            }
            return m;
        }

        /** The lines that {@code keep} accepts, for messages. */
        public List<String> lines(Predicate<String> keep) {
            return output.lines().filter(keep).toList();
        }
    }

    /** {@link #run(List, Map, int, Watcher)} without a watcher. */
    public static Run run(List<String> command, Map<String, String> extraEnv, int timeoutSeconds) throws IOException, InterruptedException {
        return run(command, extraEnv, timeoutSeconds, null);
    }

    /**
     * Runs a command with stdout and stderr together, as root may run Open MPI, without any launcher
     * variable or library choice inherited from this JVM's environment; on timeout, ends it and every
     * process it started and fails with what it printed.
     */
    public static Run run(List<String> command, Map<String, String> extraEnv, int timeoutSeconds, Watcher watcher) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("OMPI_COMM_WORLD_") || k.startsWith("PMI_") || k.startsWith("SLURM_") || k.equals(MpiOptions.LIBRARY_VARIABLE));
        env.put("OMPI_ALLOW_RUN_AS_ROOT", "1");
        env.put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
        env.putAll(extraEnv);
        long t0 = System.nanoTime();
        Process p = pb.start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> {
            byte[] buffer = new byte[8192];
            try (InputStream in = p.getInputStream()) {
                int n;
                while ((n = in.read(buffer)) > 0) {
                    String soFar;
                    synchronized (out) {
                        out.write(buffer, 0, n);
                        soFar = out.toString(StandardCharsets.UTF_8);
                    }
                    if (watcher != null) watcher.output(soFar, p);
                }
            } catch (IOException ignored) {
                // the process was ended
            }
        });
        reader.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            reader.join(5_000);
            synchronized (out) {
                fail(String.join(" ", command.subList(0, Math.min(3, command.size()))) + "... did not end within " + timeoutSeconds + " s (a hang):\n"
                        + out.toString(StandardCharsets.UTF_8));
            }
        }
        reader.join(10_000);
        String output;
        synchronized (out) {
            output = out.toString(StandardCharsets.UTF_8);
        }
        System.out.printf("%s: exit %d after %.1f s%n", String.join(" ", command.subList(Math.max(0, command.size() - 3), command.size())),
                p.exitValue(), (System.nanoTime() - t0) / 1e9);
        return new Run(p.exitValue(), output);
    }

    /** Sends {@code signal} (e.g. "USR1") to a process with kill(1). */
    public static void signal(long pid, String signal) {
        try {
            new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start().waitFor();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public static Path onPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) return null;
        Set<String> seen = new HashSet<>();
        for (String dir : path.split(":")) {
            if (dir.isEmpty() || !seen.add(dir)) continue;
            Path p = Path.of(dir, program);
            if (Files.isExecutable(p)) return p;
        }
        return null;
    }
}
