package io.jxception.cli;

import io.jxception.distributed.Mpirun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Sharded batch inference gives the single-process output, bit for bit: 11 images in batches of 4
 * (3 batches: ranks take whole batches, the last one short) under {@code mpirun -np 2} with rank 0
 * gathering, and as {@code --shard i/n} parts joined by {@code jxception merge}; {@code classify}
 * under mpirun prints what one process prints.
 */
class ShardedInferenceTest {
    static final int IMAGES = 11, BATCH = 4;

    private static List<String> infer(Path input, Path output, String... more) {
        List<String> args = new ArrayList<>(List.of("infer", "--weights", Fixtures.h5(Fixtures.TINY_TOP).toString(), "--input", input.toString(),
                "--output", output.toString(), "--backend", "cpu", "--batch", Integer.toString(BATCH)));
        args.addAll(List.of(more));
        return args;
    }

    @Test
    void inferUnderMpirunWritesTheSingleProcessOutputBitForBit(@TempDir Path tmp) throws Exception {
        Mpirun.require();
        Path input = Fixtures.randomInput(tmp.resolve("x.npy"), IMAGES, 71, 71, 7);
        Cli.Result one = Cli.run(infer(input, tmp.resolve("one.npy")).toArray(String[]::new));
        assertEquals(0, one.exitCode(), one.toString());
        Mpirun.Run two = Mpirun.ranks(2, Mpirun.java(Main.class, infer(input, tmp.resolve("two.npy")).toArray(String[]::new)), 180);
        assertEquals(0, two.exitCode(), two.output());
        assertTrue(two.output().contains("[rank 0/2] wrote " + tmp.resolve("two.npy") + ": (11,10) probabilities from 11 images on 2 ranks; this rank: images [0, 8)"),
                two.output());
        assertTrue(two.output().contains("[rank 1/2] images [8, 11) on cpu"), two.output());
        assertArrayEquals(Files.readAllBytes(tmp.resolve("one.npy")), Files.readAllBytes(tmp.resolve("two.npy")), "the gathered output is the single-process file");
    }

    @Test
    void shardPartsMergeIntoTheSingleProcessOutputBitForBit(@TempDir Path tmp) throws Exception {
        Path input = Fixtures.randomInput(tmp.resolve("x.npy"), IMAGES, 71, 71, 8);
        Cli.Result one = Cli.run(infer(input, tmp.resolve("one.npy")).toArray(String[]::new));
        assertEquals(0, one.exitCode(), one.toString());
        Path out = tmp.resolve("y.npy");
        for (int i = 0; i < 3; i++) {
            Cli.Result part = Cli.run(infer(input, out, "--shard", i + "/3").toArray(String[]::new));
            assertEquals(0, part.exitCode(), part.toString());
            assertTrue(part.out().contains("shard " + i + " of 3 (--shard " + i + "/3): images [" + 4 * i + ", " + Math.min(IMAGES, 4 * i + 4) + ") of 11"), part.out());
        }
        assertTrue(Files.exists(tmp.resolve("y.shard-2-of-3.npy")));
        Cli.Result missing = Cli.run("merge", "--output", out.toString(), tmp.resolve("y.shard-0-of-3.npy").toString(), tmp.resolve("y.shard-2-of-3.npy").toString());
        assertEquals(1, missing.exitCode());
        assertTrue(missing.err().contains("shards [1] of 3 are missing"), missing.err());
        Cli.Result merged = Cli.run("merge", "--output", out.toString());
        assertEquals(0, merged.exitCode(), merged.toString());
        assertTrue(merged.out().contains("wrote " + out + ": (11,10) from 3 parts"), merged.out());
        assertArrayEquals(Files.readAllBytes(tmp.resolve("one.npy")), Files.readAllBytes(out));
        Cli.Result bad = Cli.run(infer(input, out, "--shard", "3/3").toArray(String[]::new));
        assertEquals(2, bad.exitCode(), "a shard index out of range is a usage error");
        assertTrue(bad.err().contains("--shard 3/3: the shard index must be in [0, 3)"), bad.err());
    }

    @Test
    void classifyUnderMpirunPrintsWhatOneProcessPrints() throws Exception {
        Mpirun.require();
        List<String> args = new ArrayList<>(List.of("classify", "--weights", Fixtures.h5(Fixtures.TINY_TOP).toString(), "--size", "71", "--backend", "cpu",
                "--batch", "2", "--top", "3"));
        try (var files = Files.list(Path.of("weights/fixtures/mnist/val/3"))) {
            files.sorted().limit(5).forEach(p -> args.add(p.toString()));
        }
        Cli.Result one = Cli.run(args.toArray(String[]::new));
        assertEquals(0, one.exitCode(), one.toString());
        Mpirun.Run two = Mpirun.ranks(2, Mpirun.java(Main.class, args.toArray(String[]::new)), 180);
        assertEquals(0, two.exitCode(), two.output());
        String printed = String.join("\n", two.lines(l -> !l.startsWith("[rank "))) + "\n";
        assertEquals(one.out(), printed, "rank 0 prints every rank's images in order; the other lines are the ranks' [rank r/n] summaries");
        assertEquals(2, two.lines(l -> l.matches("\\[rank [01]/2\\] classified \\d images on cpu in .*")).size(), two.output());
    }

    private static List<String> inferImages(Path output, String... more) {
        List<String> args = new ArrayList<>(List.of("infer", "--weights", Fixtures.h5(Fixtures.TINY_TOP).toString(), "--images", "weights/fixtures/mnist/val/3",
                "--size", "71", "--output", output.toString(), "--backend", "cpu", "--batch", "2", "--top", "3"));
        args.addAll(List.of(more));
        return args;
    }

    @Test
    void imageFoldersUnderMpirunWriteTheSingleProcessCsvAndNpyWithNames(@TempDir Path tmp) throws Exception {
        Mpirun.require();
        for (String ext : List.of("csv", "npy")) {
            Cli.Result one = Cli.run(inferImages(tmp.resolve("one." + ext)).toArray(String[]::new));
            assertEquals(0, one.exitCode(), one.toString());
            Mpirun.Run two = Mpirun.ranks(2, Mpirun.java(Main.class, inferImages(tmp.resolve("two." + ext)).toArray(String[]::new)), 180);
            assertEquals(0, two.exitCode(), two.output());
            assertArrayEquals(Files.readAllBytes(tmp.resolve("one." + ext)), Files.readAllBytes(tmp.resolve("two." + ext)), ext + ": gathered equals one process");
        }
        assertEquals(Files.readString(tmp.resolve("one.names.txt")), Files.readString(tmp.resolve("two.names.txt")));
        assertTrue(Files.readString(tmp.resolve("two.csv")).startsWith("input,class_1,"), "one CSV header");
    }

    @Test
    void csvAndNpyWithNamesPartsMergeIntoTheSingleProcessFiles(@TempDir Path tmp) throws Exception {
        for (String ext : List.of("csv", "jsonl", "npy")) {
            Cli.Result one = Cli.run(inferImages(tmp.resolve("one." + ext)).toArray(String[]::new));
            assertEquals(0, one.exitCode(), one.toString());
            Path out = tmp.resolve("y." + ext);
            for (int i = 0; i < 3; i++) {
                Cli.Result part = Cli.run(inferImages(out, "--shard", i + "/3").toArray(String[]::new));
                assertEquals(0, part.exitCode(), part.toString());
                assertTrue(Files.exists(tmp.resolve("y.shard-" + i + "-of-3." + ext)), ext);
            }
            Cli.Result merged = Cli.run("merge", "--output", out.toString());
            assertEquals(0, merged.exitCode(), merged.toString());
            assertArrayEquals(Files.readAllBytes(tmp.resolve("one." + ext)), Files.readAllBytes(out), ext + ": merged parts equal one process");
        }
        assertEquals(Files.readString(tmp.resolve("one.names.txt")), Files.readString(tmp.resolve("y.names.txt")), "names files joined in shard order");
        Cli.Result mixed = Cli.run("merge", "--output", tmp.resolve("y.csv").toString(), tmp.resolve("y.shard-0-of-3.csv").toString(),
                tmp.resolve("y.shard-1-of-3.npy").toString());
        assertEquals(1, mixed.exitCode(), mixed.toString());
        assertTrue(mixed.err().contains("is not a .csv part"), mixed.toString());
    }
}
