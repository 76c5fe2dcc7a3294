package io.jxception.cli;

import io.jxception.tensor.Npy;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * {@code jxception merge}: joins the parts that {@code infer --shard i/n} wrote
 * (OUTPUT's NAME.shard-i-of-n.npy) into OUTPUT, in shard order: bitwise the output of one process
 * that computed every image. Every shard 0..n−1 must be there once, all of the same n, with the same
 * number of columns; the output is written once, atomically.
 */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = {"Join the parts written by 'infer --shard i/n' into one .npy, in shard order.",
                "Without PART arguments, takes every NAME.shard-i-of-n.npy beside --output NAME.npy."})
final class MergeCommand extends Subcommand {
    @Option(names = "--output", required = true, paramLabel = "FILE", description = "The .npy to write (the --output the shards were given).")
    Path outputFile;

    @Parameters(arity = "0..*", paramLabel = "PART", description = "Parts NAME.shard-i-of-n.npy (default: those beside --output).")
    List<Path> parts = new ArrayList<>();

    @Override
    int execute() throws IOException {
        InferCommand.checkOutputFolder(outputFile);
        List<Path> given = parts.isEmpty() ? partsBeside(outputFile) : parts;
        if (given.isEmpty()) {
            String stem = Sharding.partFile(outputFile, 0, 1).getFileName().toString().replace(".shard-0-of-1.npy", "");
            throw new IOException("no parts " + stem + ".shard-I-of-N.npy beside " + outputFile + ": run 'jxception infer --shard i/n --output "
                    + outputFile + "' for every i first");
        }
        TreeMap<Integer, Path> byIndex = new TreeMap<>();
        int count = -1;
        for (Path p : given) {
            int[] part = Sharding.partOf(p);
            if (part == null) throw new IOException(p + " is not a part written by 'infer --shard' (expected NAME.shard-I-of-N.npy)");
            if (count >= 0 && part[1] != count) throw new IOException(p + " is a part of " + part[1] + " shards, " + byIndex.firstEntry().getValue() + " of " + count);
            count = part[1];
            if (part[0] >= count) throw new IOException(p + ": shard " + part[0] + " of " + count + " does not exist (shards are numbered from 0)");
            Path before = byIndex.put(part[0], p);
            if (before != null) throw new IOException("shard " + part[0] + " given twice: " + before + " and " + p);
        }
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < count; i++) if (!byIndex.containsKey(i)) missing.add(i);
        if (!missing.isEmpty()) throw new IOException("shards " + missing + " of " + count + " are missing: run 'jxception infer --shard i/" + count + "' for them");
        List<Tensor> tensors = new ArrayList<>();
        int rows = 0, columns = -1;
        for (Path p : byIndex.values()) {
            Tensor t = Npy.read(p);
            if (t.shape().rank() != 2) throw new IOException(p + " has shape " + t.shape() + ": parts of infer are (images, classes or features)");
            if (columns >= 0 && t.shape().dim(1) != columns) throw new IOException(p + " has " + t.shape().dim(1) + " columns, the parts before it " + columns);
            columns = t.shape().dim(1);
            rows = Math.addExact(rows, t.shape().dim(0));
            tensors.add(t);
        }
        float[] all = new float[Math.multiplyExact(rows, columns)];
        int at = 0;
        for (Tensor t : tensors) {
            System.arraycopy(t.data(), 0, all, at, t.size());
            at += t.size();
        }
        Tensor merged = new Tensor(Shape.of(rows, columns), all);
        Npy.write(outputFile, merged);
        out().printf(Locale.ROOT, "wrote %s: %s from %d parts%n", outputFile, merged.shape(), count);
        return 0;
    }

    private static List<Path> partsBeside(Path output) throws IOException {
        Path folder = output.toAbsolutePath().getParent();
        String stem = Sharding.partFile(output, 0, 1).getFileName().toString().replace(".shard-0-of-1.npy", "");
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(p -> {
                java.util.regex.Matcher m = Sharding.PART.matcher(p.getFileName().toString());
                return m.matches() && m.group(1).equals(stem);
            }).sorted().toList();
        }
    }
}
