package io.jxception.cli;

import io.jxception.cli.stream.BatchSource;
import io.jxception.cli.stream.HeldRows;
import io.jxception.cli.stream.ImageBatches;
import io.jxception.cli.stream.ImageList;
import io.jxception.cli.stream.NpyBatches;
import io.jxception.cli.stream.NpyRows;
import io.jxception.cli.stream.TopKLines;
import io.jxception.image.ImageNetLabels;
import io.jxception.image.Interpolation;
import io.jxception.internal.tensor.AtomicFiles;
import io.jxception.internal.tensor.NpyDtype;
import io.jxception.internal.tensor.NpyReader;
import io.jxception.internal.tensor.NpyWriter;
import io.jxception.distributed.RankInfo;
import io.jxception.model.XceptionConfig;
import io.jxception.progress.ProgressBar;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code jxception infer}: images → softmax probabilities (or pooled features) at full speed. The
 * input is a {@code .npy} of images (N, H, W, 3) — raw uint8 pixels, or float32/float16/float64
 * already preprocessed — read from the memory-mapped file batch by batch (any size, whatever the
 * heap), or a folder / list of image files decoded on {@code --decode-threads} threads. Batches run
 * on one or several devices ({@code --backend cuda:0,cuda:1}), each with the copy of its next batch
 * overlapped. Outputs are written as batches finish, into a temporary file renamed into place at
 * the end: a {@code .npy} (N, classes) or (N, C) features (with {@code --images}, the rows' file
 * names beside it in NAME.names.txt), or top-k lines as {@code .csv} / {@code .jsonl}. Under mpirun
 * or srun each rank computes a contiguous share of whole batches and rank 0 writes the one output
 * ({@link Sharding}); {@code --shard i/n} computes one share into a part for {@code jxception merge}.
 */
@Command(name = "infer", mixinStandardHelpOptions = true,
        description = {"Run Xception over many images: a .npy (N, H, W, 3) of raw uint8 pixels or of float32/float16/float64 values already preprocessed"
                + " (x/127.5 - 1), H and W at least 71, streamed from disk; or a folder or list of image files (--images).",
                "Writes softmax probabilities (N, classes), or pooled features (N, 2048*width) with --features, as float32 .npy;"
                        + " or the top classes per image as .csv or .jsonl (by the --output extension)."})
final class InferCommand extends Subcommand {
    @Mixin BackendOptions backendOptions;

    @Option(names = "--weights", required = true, paramLabel = "FILE", description = "Keras .h5 or safetensors weights.")
    Path weightsFile;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--input", required = true, paramLabel = "FILE", description = ".npy input (N, H, W, 3): uint8 pixels, or float32/float16/float64 preprocessed.")
        Path npy;

        @Option(names = "--images", required = true, paramLabel = "DIR|LIST",
                description = "A folder of images (any depth, sorted by path) or a list file (.txt/.lst, one path per line).")
        Path images;
    }

    @Option(names = "--output", required = true, paramLabel = "FILE",
            description = ".npy (probabilities or features), .csv or .jsonl (top classes); complete only when everything succeeded.")
    Path outputFile;

    @Option(names = "--batch", defaultValue = "8", paramLabel = "N", description = "Images per forward pass (default 8).")
    int batch;

    @Option(names = "--features", description = "Output global-average-pooled features instead of probabilities (.npy only).")
    boolean features;

    @Option(names = "--top", defaultValue = "5", paramLabel = "K", description = "Classes per image in .csv/.jsonl output (default 5).")
    int top;

    @Option(names = "--size", paramLabel = "S", description = "With --images: network input height and width (default 299).")
    Integer size;

    @Option(names = "--interpolation", paramLabel = "I", converter = ClassifyCommand.InterpolationConverter.class,
            description = "With --images: resize filter, nearest (default, as Keras' load_img) or bilinear.")
    Interpolation interpolation;

    @Option(names = "--decode-threads", paramLabel = "T", description = "With --images: threads decoding images (default: one per processor).")
    Integer decodeThreads;

    @Option(names = "--skip-bad-images", description = "With --images: leave unreadable images out (listed on stderr) instead of failing.")
    boolean skipBadImages;

    @Option(names = "--shard", paramLabel = "i/n|auto",
            description = {"Compute shard i of n (whole batches) and write OUTPUT's part NAME.shard-i-of-n.EXT for 'jxception merge'; "
                    + "auto: i and n from the launcher (SLURM_PROCID, OMPI_COMM_WORLD_RANK, PMI_RANK...) without MPI.",
                    "Without it, under mpirun or srun every rank computes its share and rank 0 writes the one output."})
    String shardOption;

    /** Output kinds, by the file's extension. */
    enum Format { NPY, CSV, JSONL }

    @Override
    int execute() throws Exception {
        if (batch < 1) throw usage("--batch must be at least 1, got " + batch);
        if (top < 1) throw usage("--top must be at least 1, got " + top);
        backendOptions.names();   // a device named twice is a usage error before any work
        Format format = formatOf(outputFile);
        if (format == null) throw usage("--output " + outputFile + ": give a .npy, .csv or .jsonl file name");
        if (features && format != Format.NPY) throw usage("--features writes a .npy; .csv and .jsonl list top classes");
        boolean fromImages = input.images != null;
        if (!fromImages && (size != null || interpolation != null || decodeThreads != null || skipBadImages)) {
            throw usage("--size, --interpolation, --decode-threads and --skip-bad-images go with --images; a .npy input has its own size");
        }
        if (size != null && (size < XceptionConfig.MIN_INPUT || size > XceptionConfig.MAX_INPUT)) {
            throw usage("--size must be from " + XceptionConfig.MIN_INPUT + " to " + XceptionConfig.MAX_INPUT + ", got " + size);
        }
        if (decodeThreads != null && decodeThreads < 1) throw usage("--decode-threads must be at least 1, got " + decodeThreads);
        Sharding sharding;
        try {
            sharding = Sharding.open(shardOption);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        try (sharding) {
            return JobFailure.abortingJob(sharding.communicator(), out(), err(), () -> infer(sharding, format, fromImages));
        }
    }

    /**
     * This process's share of the inputs (all of them alone), written as it goes to OUTPUT or to this
     * shard's part; under MPI with several ranks, held in memory and gathered by rank 0, which writes
     * the one output as a single process would.
     */
    private int infer(Sharding sharding, Format format, boolean fromImages) throws IOException {
        Path target = sharding.writesPart() ? sharding.partFile(outputFile) : outputFile;
        if (sharding.writesOutput()) {
            // output rules and a writable folder, before any work
            checkOutput(target);
            if (fromImages && format == Format.NPY) checkOutput(namesFile(target));
        }
        BatchSource source;
        int h, w;
        String what;
        long inputs;                 // every image of the input, all shards
        RankInfo.Share share;        // this process's images [first, end)
        if (fromImages) {
            h = w = size == null ? 299 : size;
            List<ImageList.Entry> entries = ImageList.expand(List.of(input.images));
            inputs = entries.size();
            share = sharding.range(inputs, batch);
            int threads = decodeThreads == null ? Runtime.getRuntime().availableProcessors() : decodeThreads;
            source = new ImageBatches(entries.subList((int) share.first(), (int) share.end()), h, interpolation == null ? Interpolation.NEAREST : interpolation,
                    batch, threads, skipBadImages);
            what = "images";
        } else {
            NpyReader reader = openInput(input.npy);
            h = reader.shape().dim(1);
            w = reader.shape().dim(2);
            inputs = reader.rows();
            share = sharding.range(inputs, batch);
            source = new NpyBatches(reader, share.first(), share.end(), batch);
            what = reader.dtype().numpyName + " images";
        }
        long total = source.total();
        try (source) {
            XceptionWeights weights = WeightsArgument.load(weightsFile, h, w, features);
            int classes = weights.graph().config().classes();
            ImageNetLabels labels = classes == ImageNetLabels.CLASSES && format != Format.NPY ? ImageNetLabels.load() : null;
            try (Devices devices = Devices.open(backendOptions, weights, (int) Math.max(1, Math.min(batch, total)), sharding.gathers())) {
                Shape rowShape = rowShape(devices.sessions.get(0).outputShape(1));
                if (sharding.gathers() && inputs * rowShape.dim(0) > Integer.MAX_VALUE - 8) {
                    throw new IOException(inputs + " images of " + rowShape.dim(0) + " values are too many for rank 0 to gather in memory: "
                            + "run every rank with --shard auto (each writes its part) and join the parts with 'jxception merge --output " + outputFile + "'");
                }
                // one batch shows no bar; several: a bar, redrawn on a terminal, a line per tenth in a log
                ProgressBar progress = new ProgressBar(err(), sharding.prefix().strip(), total, ProgressBar.terminalAttached(), total > batch ? 0 : Long.MAX_VALUE);
                AtomicLong rows = new AtomicLong();
                long t0 = System.nanoTime();
                List<String> names = null;
                HeldRows held = sharding.gathers() ? new HeldRows(rowShape.dim(0)) : null;
                try {
                    if (held != null) {
                        devices.run(source, (b, y) -> {
                            held.accept(b, y);
                            rows.addAndGet(b.size());
                            progress.advanceWithRate(b.size(), "img/s");
                        });
                    } else if (format == Format.NPY) {
                        NpyRows[] sink = new NpyRows[1];
                        AtomicFiles.write(target, channel -> {
                            NpyWriter writer = new NpyWriter(channel, NpyDtype.F32, rowShape, fromImages ? -1 : total);
                            sink[0] = new NpyRows(writer, null);
                            devices.run(source, (b, y) -> {
                                sink[0].accept(b, y);
                                rows.addAndGet(b.size());
                                progress.advanceWithRate(b.size(), "img/s");
                            });
                            sink[0].finish(rows.get());
                        });
                        names = sink[0].names();
                    } else {
                        AtomicFiles.write(target, channel -> {
                            Writer text = new BufferedWriter(Channels.newWriter(channel, StandardCharsets.UTF_8));
                            TopKLines lines = new TopKLines(text, format == Format.CSV ? TopKLines.Format.CSV : TopKLines.Format.JSONL, labels, top, classes, null);
                            devices.run(source, (b, y) -> {
                                lines.accept(b, y);
                                rows.addAndGet(b.size());
                                progress.advanceWithRate(b.size(), "img/s");
                            });
                            text.flush();   // not close: the channel belongs to AtomicFiles
                        });
                    }
                } finally {
                    progress.close();
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                if (source instanceof ImageBatches images) reportSkipped(images, sharding.prefix());
                long n = rows.get();
                String kind = format != Format.NPY ? "top-" + top + " classes" : features ? "pooled features" : "probabilities";
                if (held != null) {
                    float[] all = sharding.gather(held.rows());
                    List<String> allNames = sharding.gatherNames(held.names());
                    if (!sharding.writesOutput()) {
                        out().printf(Locale.ROOT, "%simages [%d, %d) on %s in %.2f s (%.2f img/s)%n", sharding.prefix(), share.first(), share.end(),
                                devices.label(), seconds, n / seconds);
                        return 0;
                    }
                    int gathered = allNames.size();
                    writeGathered(format, all, allNames, rowShape, labels, classes, fromImages);
                    out().printf(Locale.ROOT, "%swrote %s: %s from %d images on %d ranks; this rank: images [%d, %d) on %s in %.2f s (%.2f img/s)%n",
                            sharding.prefix(), outputFile, format == Format.NPY ? Shape.of(gathered, rowShape.dim(0)) + " " + kind : kind, gathered,
                            sharding.communicator().size(), share.first(), share.end(), devices.label(), seconds, n / seconds);
                    return 0;
                }
                if (fromImages && names != null) AtomicFiles.write(namesFile(target), namesText(names));
                out().printf(Locale.ROOT, "wrote %s: %s from %d %s on %s in %.2f s (%.2f img/s)%s%n", target,
                        format == Format.NPY ? Shape.of(Math.toIntExact(n), rowShape.dim(0)) + " " + kind : kind, n, what, devices.label(), seconds, n / seconds,
                        sharding.writesPart() ? ", " + sharding.describe() + ": images [" + share.first() + ", " + share.end() + ") of " + inputs : "");
            }
        }
        return 0;
    }

    /** Rank 0 writes every rank's rows, gathered in rank order, as a single process writes its output. */
    private void writeGathered(Format format, float[] all, List<String> names, Shape rowShape, ImageNetLabels labels, int classes, boolean fromImages)
            throws IOException {
        int n = names.size();
        if (format == Format.NPY) {
            AtomicFiles.write(outputFile, channel -> {
                NpyWriter writer = new NpyWriter(channel, NpyDtype.F32, rowShape, n);
                writer.writeRows(0, all, 0, n);
                writer.finish(n);
            });
            if (fromImages) AtomicFiles.write(namesFile(outputFile), namesText(names));
        } else {
            AtomicFiles.write(outputFile, channel -> {
                Writer text = new BufferedWriter(Channels.newWriter(channel, StandardCharsets.UTF_8));
                TopKLines lines = new TopKLines(text, format == Format.CSV ? TopKLines.Format.CSV : TopKLines.Format.JSONL, labels, top, classes, null);
                if (n > 0) lines.accept(0, names, new Tensor(Shape.of(n, classes), all));
                text.flush();   // not close: the channel belongs to AtomicFiles
            });
        }
    }

    /** The names file's bytes: one name per line. */
    private static byte[] namesText(List<String> names) {
        StringBuilder s = new StringBuilder();
        for (String name : names) s.append(name).append('\n');
        return s.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Lists the images {@code --skip-bad-images} left out, on stderr. */
    private void reportSkipped(ImageBatches images, String prefix) {
        List<ImageBatches.Skipped> skipped = images.skipped();
        if (skipped.isEmpty()) return;
        err().println(prefix + "skipped " + skipped.size() + " unreadable image" + (skipped.size() == 1 ? "" : "s") + ":");
        for (ImageBatches.Skipped s : skipped) err().println("  " + s.reason());
        err().flush();
    }

    static Format formatOf(Path output) {
        String n = output.getFileName() == null ? "" : output.getFileName().toString().toLowerCase(Locale.ROOT);
        if (n.endsWith(".npy")) return Format.NPY;
        if (n.endsWith(".csv")) return Format.CSV;
        if (n.endsWith(".jsonl")) return Format.JSONL;
        return null;
    }

    /** features.npy → features.names.txt: the file names of the rows of an --images run's .npy. */
    static Path namesFile(Path npy) {
        String n = npy.getFileName().toString();
        return npy.resolveSibling(n.substring(0, n.length() - ".npy".length()) + ".names.txt");
    }

    private static Shape rowShape(Shape outputOfOne) {
        int[] d = outputOfOne.dims();
        return new Shape(java.util.Arrays.copyOfRange(d, 1, d.length));
    }

    /**
     * Fails before any work when the output could not be written at the end: a missing or
     * unwritable folder, a folder as the output, or an existing output that is not a regular file
     * (a device such as /dev/null, a fifo): outputs replace only regular files.
     */
    static void checkOutput(Path output) throws IOException {
        // AtomicFiles' rules (regular files or new paths, links followed, a writable folder proved by a probe file)
        io.jxception.internal.tensor.AtomicFiles.checkTarget(output);
    }

    /** Opens and checks the input: a .npy of images (N, H, W, 3), N ≥ 1, H, W ≥ 71, of a dtype jxception reads. */
    static NpyReader openInput(Path file) throws IOException {
        if (!Files.exists(file)) throw new IOException("input file not found: " + file);
        NpyReader r = NpyReader.open(file);
        try {
            Shape s = r.shape();
            if (s.rank() != 4 || s.dim(3) != 3) {
                throw new IOException("input " + file + " has shape " + s + ": expected (N, H, W, 3), NHWC RGB images (uint8 pixels, or float values preprocessed with x/127.5 - 1)");
            }
            if (s.dim(0) < 1) throw new IOException("input " + file + " holds no images (shape " + s + ")");
            if (s.dim(1) < XceptionConfig.MIN_INPUT || s.dim(2) < XceptionConfig.MIN_INPUT) {
                throw new IOException("input " + file + " has images of " + s.dim(1) + "x" + s.dim(2) + ": Xception needs H and W of at least " + XceptionConfig.MIN_INPUT);
            }
            return r;
        } catch (IOException | RuntimeException e) {
            r.close();
            throw e;
        }
    }
}
