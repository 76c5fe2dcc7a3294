package io.jxception.cli;

import io.jxception.internal.tensor.AtomicFiles;
import io.jxception.internal.tensor.NpyDtype;
import io.jxception.internal.tensor.NpyReader;
import io.jxception.internal.tensor.NpyWriter;
import io.jxception.tensor.Shape;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Writer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.stream.Stream;

/**
 * {@code jxception merge}: joins the parts that {@code infer --shard i/n} or {@code classify --shard
 * i/n --output} wrote (OUTPUT's NAME.shard-i-of-n.EXT) into OUTPUT, in shard order: bitwise the
 * output of one process that computed every image. Every shard 0..n−1 must be there once, all of the
 * same n and the same kind as OUTPUT. {@code .npy} parts are copied batch by batch (any size) and
 * must have the same columns; their NAME.shard-i-of-n.names.txt files (from {@code --images}) are
 * joined too; {@code .csv} parts keep the first part's header; {@code .jsonl} parts are
 * concatenated. The output is written once, atomically.
 */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = {"Join the parts written by 'infer --shard i/n' (or 'classify --shard i/n --output') into one file, in shard order.",
                "Without PART arguments, takes every NAME.shard-i-of-n.EXT beside --output NAME.EXT."})
final class MergeCommand extends Subcommand {
    private static final long ROWS_PER_COPY = 4096;

    @Option(names = "--output", required = true, paramLabel = "FILE", description = "The .npy, .csv or .jsonl to write (the --output the shards were given).")
    Path outputFile;

    @Parameters(arity = "0..*", paramLabel = "PART", description = "Parts NAME.shard-i-of-n.EXT (default: those beside --output).")
    List<Path> parts = new ArrayList<>();

    @Override
    int execute() throws IOException {
        InferCommand.Format format = InferCommand.formatOf(outputFile);
        if (format == null) throw usage("--output " + outputFile + ": give a .npy, .csv or .jsonl file name");
        InferCommand.checkOutput(outputFile);
        String extension = extensionOf(outputFile);
        List<Path> given = parts.isEmpty() ? partsBeside(outputFile) : parts;
        if (given.isEmpty()) {
            throw new IOException("no parts " + stemOf(outputFile) + ".shard-I-of-N" + extension + " beside " + outputFile + ": run 'jxception infer --shard i/n --output "
                    + outputFile + "' for every i first");
        }
        TreeMap<Integer, Path> byIndex = new TreeMap<>();
        int count = -1;
        for (Path p : given) {
            int[] part = Sharding.partOf(p);
            if (part == null) throw new IOException(p + " is not a part written with --shard (expected NAME.shard-I-of-N.npy, .csv or .jsonl)");
            if (!extensionOf(p).equalsIgnoreCase(extension)) throw new IOException(p + " is not a " + extension + " part: parts of " + outputFile + " are " + extension + " files");
            if (count >= 0 && part[1] != count) throw new IOException(p + " is a part of " + part[1] + " shards, " + byIndex.firstEntry().getValue() + " of " + count);
            count = part[1];
            if (part[0] >= count) throw new IOException(p + ": shard " + part[0] + " of " + count + " does not exist (shards are numbered from 0)");
            Path before = byIndex.put(part[0], p);
            if (before != null) throw new IOException("shard " + part[0] + " given twice: " + before + " and " + p);
        }
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < count; i++) if (!byIndex.containsKey(i)) missing.add(i);
        if (!missing.isEmpty()) throw new IOException("shards " + missing + " of " + count + " are missing: run 'jxception infer --shard i/" + count + "' for them");
        List<Path> ordered = new ArrayList<>(byIndex.values());
        if (format == InferCommand.Format.NPY) {
            mergeNpy(ordered, count);
        } else {
            long lines = mergeText(ordered, format == InferCommand.Format.CSV);
            out().printf(Locale.ROOT, "wrote %s: %d lines from %d parts%n", outputFile, lines, count);
        }
        return 0;
    }

    /** Copies the parts' rows in order into one (rows, columns) float32 .npy, with the names files when every part has one. */
    private void mergeNpy(List<Path> ordered, int count) throws IOException {
        List<NpyReader> readers = new ArrayList<>();
        try {
            long rows = 0;
            Shape rowShape = null;
            for (Path p : ordered) {
                NpyReader r = NpyReader.open(p);
                readers.add(r);
                Shape s = r.shape();
                if (s.rank() != 2) throw new IOException(p + " has shape " + s + ": parts of infer are (images, classes or features)");
                if (rowShape != null && s.dim(1) != rowShape.dim(0)) throw new IOException(p + " has " + s.dim(1) + " columns, the parts before it " + rowShape.dim(0));
                rowShape = Shape.of(s.dim(1));
                rows = Math.addExact(rows, r.rows());
            }
            List<Path> namesFiles = new ArrayList<>();
            for (Path p : ordered) namesFiles.add(InferCommand.namesFile(p));
            long withNames = namesFiles.stream().filter(Files::isRegularFile).count();
            if (withNames != 0 && withNames != ordered.size()) {
                throw new IOException("only " + withNames + " of " + ordered.size() + " parts have a names file (" + namesFiles.get(0).getFileName() + "): give parts of one run");
            }
            long total = rows;
            Shape row = rowShape;
            AtomicFiles.write(outputFile, channel -> {
                NpyWriter writer = new NpyWriter(channel, NpyDtype.F32, row, total);
                long at = 0;
                for (NpyReader r : readers) {
                    for (long from = 0; from < r.rows(); from += ROWS_PER_COPY) {
                        long to = Math.min(r.rows(), from + ROWS_PER_COPY);
                        writer.writeRows(at + from, r.readFloats(from, to).data(), 0, (int) (to - from));
                    }
                    at += r.rows();
                }
                writer.finish(total);
            });
            if (withNames > 0) {
                Path names = InferCommand.namesFile(outputFile);
                AtomicFiles.write(names, channel -> {
                    Writer text = Channels.newWriter(channel, StandardCharsets.UTF_8);
                    for (Path n : namesFiles) {
                        try (BufferedReader in = Files.newBufferedReader(n, StandardCharsets.UTF_8)) {
                            for (String line; (line = in.readLine()) != null; ) text.write(line + "\n");
                        }
                    }
                    text.flush();   // not close: the channel belongs to AtomicFiles
                });
            }
            out().printf(Locale.ROOT, "wrote %s: %s from %d parts%n", outputFile, Shape.of(Math.toIntExact(total), row.dim(0)), count);
        } finally {
            for (NpyReader r : readers) r.close();
        }
    }

    /** Concatenates text parts; a CSV part after the first must start with the first's header, which is dropped. Returns the lines written. */
    private long mergeText(List<Path> ordered, boolean csv) throws IOException {
        long[] lines = {0};
        AtomicFiles.write(outputFile, channel -> {
            Writer text = Channels.newWriter(channel, StandardCharsets.UTF_8);
            String header = null;
            for (Path p : ordered) {
                try (BufferedReader in = Files.newBufferedReader(p, StandardCharsets.UTF_8)) {
                    String line = in.readLine();
                    if (csv) {
                        if (line == null) throw new IOException(p + " is empty: a CSV part starts with its header");
                        if (header == null) {
                            header = line;
                            text.write(line + "\n");
                            lines[0]++;
                        } else if (!header.equals(line)) {
                            throw new IOException(p + " has the header '" + line + "', the first part '" + header + "': give parts of one run");
                        }
                        line = in.readLine();
                    }
                    for (; line != null; line = in.readLine()) {
                        text.write(line + "\n");
                        lines[0]++;
                    }
                }
            }
            text.flush();   // not close: the channel belongs to AtomicFiles
        });
        return lines[0];
    }

    private static String extensionOf(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(dot) : "";
    }

    private static String stemOf(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }

    private static List<Path> partsBeside(Path output) throws IOException {
        Path folder = output.toAbsolutePath().getParent();
        String stem = stemOf(output), extension = extensionOf(output);
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(p -> {
                Matcher m = Sharding.PART.matcher(p.getFileName().toString());
                return m.matches() && m.group(1).equals(stem) && ("." + m.group(4)).equalsIgnoreCase(extension);
            }).sorted().toList();
        }
    }
}
