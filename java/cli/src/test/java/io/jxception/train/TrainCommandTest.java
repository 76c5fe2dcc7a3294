package io.jxception.train;

import io.jxception.cli.Cli;
import io.jxception.cli.Cli.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** {@code jxception train} through the real command line (the kill test in {@link ResumeTest} runs it in a child JVM). */
class TrainCommandTest {
    static Result run(String... args) { return Cli.run(args); }

    @Test
    void trainsWithAValidationSplitAndReportsWhereOutputsAre(@TempDir Path out) throws Exception {
        Result r = run("train", Runs.MNIST_VAL.toString(), "--out", out.toString(), "--backend", "cpu", "--size", "71",
                "--width", "0.0625", "--middle-blocks", "1", "--batch", "8", "--epochs", "1", "--val-split", "0.2",
                "--crop", "3", "--lr", "0.02", "--schedule", "cosine");
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().startsWith("finished after 20 steps; epoch 1: train acc "), r.out());
        assertTrue(r.err().contains("160 training images (20 steps/epoch), 40 validation images"), r.err());
        assertTrue(r.err().contains("epoch 1: loss "), r.err());
        for (String f : new String[]{Trainer.CHECKPOINT, Trainer.LOG, io.jxception.cli.TrainingPlot.FILE_NAME, Trainer.WEIGHTS}) assertTrue(Files.exists(out.resolve(f)), f);
    }

    /**
     * The GPU machine's classpath holds the project's classes and only the JCuda and picocli jars
     * (benchmarks/device/prepare.sh): with {@code --no-plot} (no xchart) the train command runs there
     * in full — data loading, training, checkpoints, CSV log, final weights.
     */
    @Test
    void trainsWithOnlyTheGpuMachinesJarsWhenThePlotIsOff(@TempDir Path out) throws Exception {
        StringBuilder cp = new StringBuilder();
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            String name = Path.of(e).getFileName().toString();
            if (e.endsWith("classes") && !e.endsWith("test-classes") || name.startsWith("jcuda") || name.startsWith("picocli")) {
                cp.append(cp.length() == 0 ? "" : java.io.File.pathSeparator).append(e);
            }
        }
        assertFalse(cp.toString().contains("xchart"), cp.toString());
        java.util.List<String> cmd = java.util.List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-Djava.awt.headless=true", "-cp", cp.toString(), "io.jxception.cli.Main", "train", Runs.MNIST_VAL.toString(),
                "--out", out.toString(), "--backend", "cpu", "--size", "71", "--width", "0.0625", "--middle-blocks", "1", "--batch", "8",
                "--epochs", "1", "--max-steps", "3", "--loader-threads", "1", "--no-plot");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.resolve("child.log").toFile()).start();
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "child did not finish in 120 s");
        String log = Files.readString(out.resolve("child.log"));
        assertEquals(0, p.exitValue(), log);
        assertTrue(log.contains("stopped after 3 steps"), log);
        assertTrue(Files.exists(out.resolve(Trainer.CHECKPOINT)), log);
        assertFalse(Files.exists(out.resolve(io.jxception.cli.TrainingPlot.FILE_NAME)), "--no-plot wrote " + io.jxception.cli.TrainingPlot.FILE_NAME);
    }

    @Test
    void badOptionsAreUsageErrors(@TempDir Path out) {
        Result crop = run("train", Runs.MNIST_VAL.toString(), "--out", out.toString(), "--backend", "cpu", "--crop", "-1");
        assertEquals(2, crop.exitCode(), crop.toString());
        assertTrue(crop.err().startsWith("jxception: error: crop padding must be in [0, 64] pixels, got -1"), crop.err());
        Result schedule = run("train", Runs.MNIST_VAL.toString(), "--out", out.toString(), "--backend", "cpu", "--schedule", "linear");
        assertEquals(2, schedule.exitCode(), schedule.toString());
        assertTrue(schedule.err().contains("unknown learning-rate schedule 'linear'"), schedule.err());
        Result both = run("train", Runs.MNIST_VAL.toString(), "--out", out.toString(), "--val", "x", "--val-split", "0.1");
        assertEquals(2, both.exitCode(), both.toString());
    }

    @Test
    void missingDataFolderIsARuntimeErrorNamingIt(@TempDir Path out) {
        Result r = run("train", out.resolve("nope").toString(), "--out", out.resolve("o").toString(), "--backend", "cpu", "--size", "71");
        assertEquals(1, r.exitCode(), r.toString());
        assertTrue(r.err().startsWith("jxception: error: image folder " + out.resolve("nope") + " does not exist"), r.err());
    }
}
