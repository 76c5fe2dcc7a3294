package io.jxception.cli;

import io.jxception.distributed.Mpirun;
import io.jxception.internal.train.Checkpoint;
import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.train.Trainer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code jxception train} as a rank of {@code mpirun -np 2}: job hygiene. SIGUSR1 or SIGTERM (what
 * SLURM sends every task before the time limit) stops both ranks after the same step with a
 * checkpoint and a clean exit; every line carries its rank and rank 1 prints only its final lines;
 * ranks started with different settings stop at once, naming the rank and the setting.
 *
 * <p>The signals go to the ranks' JVMs, as srun delivers them: Open MPI 4.1's mpirun forwards
 * SIGUSR2 to its ranks but not SIGUSR1 (checked here: "Forwarding signal 12" only), and the JVM
 * keeps SIGUSR2 for itself.
 */
class TrainUnderMpirunTest {
    @BeforeEach
    void requireOpenMpi() throws Exception {
        Mpirun.require();
    }

    private static List<String> train(Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "weights/fixtures/mnist/val", "--out", out.toString(), "--backend", "cpu",
                "--size", "71", "--width", "0.0625", "--middle-blocks", "1", "--batch", "4", "--epochs", "1", "--lr", "0.02",
                "--loader-threads", "1", "--prefetch", "2", "--checkpoint-every", "0", "--no-plot"));
        args.addAll(List.of(more));
        return args;
    }

    @Test
    void sigusr1StopsEveryRankAfterTheSameStepWithACheckpointAndACleanExit(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        AtomicBoolean sent = new AtomicBoolean();
        // once rank 0 trains: SIGUSR1 to one rank's JVM, SIGTERM to the other's
        Mpirun.Run run = Mpirun.ranks(2, Mpirun.java(Main.class, train(out).toArray(String[]::new)), 240, (soFar, mpirun) -> {
            if (soFar.contains("[rank 0/2] epoch 1/1") && !sent.getAndSet(true)) {
                List<ProcessHandle> jvms = mpirun.descendants().filter(h -> h.info().command().orElse("").endsWith("/java")).toList();
                assertEquals(2, jvms.size(), "two ranks' JVMs under mpirun");
                Mpirun.signal(jvms.get(0).pid(), "USR1");
                Mpirun.signal(jvms.get(1).pid(), "TERM");
            }
        });
        assertTrue(sent.get(), "the run never reached its first epoch:\n" + run.output());
        assertEquals(0, run.exitCode(), "a stop asked by a signal is a clean exit:\n" + run.output());
        List<Integer> stops = new ArrayList<>();
        Matcher m = Pattern.compile("\\[rank (\\d)/2] stopped after step (\\d+) \\(SIG(USR1|TERM)\\), mid-epoch 1: checkpoint written").matcher(run.output());
        while (m.find()) stops.add(Integer.parseInt(m.group(2)));
        assertEquals(2, stops.size(), "each rank says where it stopped:\n" + run.output());
        assertEquals(stops.get(0), stops.get(1), "both ranks stop after the same step:\n" + run.output());
        int step = stops.get(0);
        assertTrue(step < 25, "stopped before the epoch's end");
        for (int r = 0; r < 2; r++) {
            assertTrue(Pattern.compile("\\[rank " + r + "/2] received SIG(USR1|TERM): stopping after the current step").matcher(run.output()).find(), run.output());
            assertTrue(run.output().contains("[rank " + r + "/2] stopped after " + step + " steps; no epoch completed"), run.output());
        }
        assertTrue(Pattern.compile("\\[rank 1/2] on cpu, per step \\(steps 2 to \\d+\\): [0-9.]+ ms = compute").matcher(run.output()).find()
                || step == 1, "rank 1's final line splits its step time:\n" + run.output());
        for (String line : run.lines(l -> l.startsWith("[rank 1/2]"))) {
            assertTrue(line.contains("received SIG") || line.contains("stopped after") || line.contains("per step"), "rank 1 prints only its final lines: " + line);
        }
        assertTrue(run.lines(l -> l.contains("data parallel: 2 processes x batch 4")).stream().allMatch(l -> l.startsWith("[rank 0/2] ")), run.output());
        XceptionGraph graph = XceptionGraph.build(new XceptionConfig(71, 71, 10, true, Pooling.NONE, 0.0625, 1));
        assertEquals(step, Checkpoint.read(out.resolve(Trainer.CHECKPOINT), graph).state().step());
        assertFalse(Files.exists(out.resolve(Trainer.WEIGHTS)), "an unfinished run writes no final weights");
    }

    /** MPMD launch: rank 1 with another seed. Both ranks stop before training, with the setting that differs. */
    @Test
    void ranksStartedWithDifferentSettingsStopAtOnceNamingTheRankAndTheSetting(@TempDir Path tmp) throws Exception {
        List<String> command = new ArrayList<>(List.of(Mpirun.require(), "-np", "1"));
        command.addAll(Mpirun.OPEN_MPI_OPTIONS);
        command.addAll(Mpirun.java(Main.class, train(tmp.resolve("a")).toArray(String[]::new)));
        command.addAll(List.of(":", "-np", "1"));
        command.addAll(Mpirun.java(Main.class, train(tmp.resolve("a"), "--seed", "2").toArray(String[]::new)));
        Mpirun.Run run = Mpirun.run(command, Map.of(), 120);
        assertNotEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("jxception: error: rank 1 of 2 was started with another training than rank 0: rank 0 has seed=1, rank 1 has seed=2"),
                run.output());
        assertFalse(Files.exists(tmp.resolve("a").resolve(Trainer.CHECKPOINT)));
    }
}
