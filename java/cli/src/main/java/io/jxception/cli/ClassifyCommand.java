package io.jxception.cli;

import io.jxception.cli.stream.HeldRows;
import io.jxception.cli.stream.ImageBatches;
import io.jxception.cli.stream.ImageList;
import io.jxception.cli.stream.TopKLines;
import io.jxception.image.ImageNetLabels;
import io.jxception.image.Interpolation;
import io.jxception.internal.tensor.AtomicFiles;
import io.jxception.distributed.RankInfo;
import io.jxception.model.XceptionConfig;
import io.jxception.progress.ProgressBar;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code jxception classify}: images → top-k classes with probabilities, as Keras'
 * {@code decode_predictions(model.predict(preprocess_input(load_img(f, target_size))))} prints them.
 * The images are files, folders (every image under them, sorted) or list files (.txt/.lst), decoded
 * on a pool of threads while the devices run, uploaded as raw bytes. Results are printed in input
 * order as their batch finishes (or written to a .csv/.jsonl file, complete only on success). A file
 * that cannot be decoded stops the command with its name, or with {@code --skip-bad-images} is left
 * out and listed on stderr. Under mpirun or srun each rank classifies a contiguous share of whole
 * batches and rank 0 prints (or writes) every result in input order; {@code --shard i/n} runs one
 * share alone.
 */
@Command(name = "classify", mixinStandardHelpOptions = true,
        description = "Print the top classes of each image (ImageNet labels when the weights have 1000 classes).")
final class ClassifyCommand extends Subcommand {
    @Mixin BackendOptions backendOptions;

    @Option(names = "--weights", required = true, paramLabel = "FILE", description = "Keras .h5 or safetensors weights with the classifier.")
    Path weightsFile;

    @Parameters(arity = "1..*", paramLabel = "IMAGE|DIR|LIST",
            description = "JPEG or PNG files, folders of them (any depth, sorted by path), or list files (.txt/.lst, one path per line).")
    List<Path> images;

    @Option(names = "--size", defaultValue = "299", paramLabel = "S", description = "Network input height and width (default 299, Keras' size).")
    int size;

    @Option(names = "--interpolation", defaultValue = "nearest", paramLabel = "I", converter = InterpolationConverter.class,
            description = "Resize filter: nearest (default, as Keras' load_img) or bilinear (Pillow's antialiased bilinear).")
    Interpolation interpolation;

    @Option(names = "--top", defaultValue = "5", paramLabel = "K", description = "Classes per image (default 5).")
    int top;

    @Option(names = "--batch", defaultValue = "8", paramLabel = "N", description = "Images per forward pass (default 8).")
    int batch;

    @Option(names = "--decode-threads", paramLabel = "T", description = "Threads decoding images (default: one per processor).")
    Integer decodeThreads;

    @Option(names = "--skip-bad-images", description = "Leave unreadable images out (listed on stderr) instead of failing.")
    boolean skipBadImages;

    @Option(names = "--output", paramLabel = "FILE", description = "Write the results to a .csv or .jsonl file instead of printing them.")
    Path outputFile;

    @Option(names = "--shard", paramLabel = "i/n|auto",
            description = {"Classify shard i of n of the images (whole batches): printed in order, the shards' outputs concatenate to the whole; "
                    + "with --output, write its part NAME.shard-i-of-n.EXT for 'jxception merge'. auto: i and n from the launcher without MPI.",
                    "Without it, under mpirun or srun every rank classifies its share and rank 0 prints or writes them all."})
    String shardOption;

    @Override
    int execute() throws Exception {
        if (top < 1) throw usage("--top must be at least 1, got " + top);
        backendOptions.names();   // a device named twice is a usage error before any work
        if (batch < 1) throw usage("--batch must be at least 1, got " + batch);
        if (size < XceptionConfig.MIN_INPUT || size > XceptionConfig.MAX_INPUT) {
            throw usage("--size must be from " + XceptionConfig.MIN_INPUT + " to " + XceptionConfig.MAX_INPUT + ", got " + size);
        }
        if (decodeThreads != null && decodeThreads < 1) throw usage("--decode-threads must be at least 1, got " + decodeThreads);
        TopKLines.Format format = TopKLines.Format.TEXT;
        if (outputFile != null) {
            InferCommand.Format f = InferCommand.formatOf(outputFile);
            if (f != InferCommand.Format.CSV && f != InferCommand.Format.JSONL) throw usage("--output " + outputFile + ": give a .csv or .jsonl file name");
            format = f == InferCommand.Format.CSV ? TopKLines.Format.CSV : TopKLines.Format.JSONL;
        }
        TopKLines.Format chosen = format;
        Sharding sharding;
        try {
            sharding = Sharding.open(shardOption);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        try (sharding) {
            return JobFailure.abortingJob(sharding.communicator(), out(), err(), () -> classify(sharding, chosen));
        }
    }

    /**
     * This process's share of the images (all of them alone), printed or written as batches finish;
     * under MPI with several ranks, held in memory and gathered by rank 0, which prints or writes
     * what a single process would.
     */
    private int classify(Sharding sharding, TopKLines.Format format) throws IOException {
        Path target = outputFile == null ? null : sharding.writesPart() ? sharding.partFile(outputFile) : outputFile;
        if (target != null && sharding.writesOutput()) InferCommand.checkOutput(target);
        List<ImageList.Entry> all = ImageList.expand(images);
        RankInfo.Share share = sharding.range(all.size(), batch);
        List<ImageList.Entry> entries = all.subList((int) share.first(), (int) share.end());
        XceptionWeights weights = WeightsArgument.load(weightsFile, size, size, false);
        int classes = weights.graph().config().classes();
        ImageNetLabels labels = classes == ImageNetLabels.CLASSES ? ImageNetLabels.load() : null;
        int threads = decodeThreads == null ? Runtime.getRuntime().availableProcessors() : decodeThreads;
        AtomicLong done = new AtomicLong();
        HeldRows held = sharding.gathers() ? new HeldRows(classes) : null;
        String devicesLabel;
        double seconds;
        try (ImageBatches source = new ImageBatches(entries, size, interpolation, batch, threads, skipBadImages);
             Devices devices = Devices.open(backendOptions, weights, Math.max(1, Math.min(batch, entries.size())), sharding.gathers())) {
            devicesLabel = devices.label();
            // printed results go to stdout, so the bar shows only when they go to a file
            boolean bar = target != null && entries.size() > batch;
            ProgressBar progress = new ProgressBar(err(), sharding.prefix().strip(), entries.size(), ProgressBar.terminalAttached(), bar ? 0 : Long.MAX_VALUE);
            long t0 = System.nanoTime();
            try {
                if (held != null) {
                    devices.run(source, (b, y) -> {
                        held.accept(b, y);
                        done.addAndGet(b.size());
                    });
                } else if (target == null) {
                    PrintWriter out = out();
                    TopKLines lines = new TopKLines(out, format, labels, top, classes, out::flush);
                    devices.run(source, (b, y) -> {
                        lines.accept(b, y);
                        done.addAndGet(b.size());
                    });
                } else {
                    AtomicFiles.write(target, channel -> {
                        Writer text = new BufferedWriter(Channels.newWriter(channel, StandardCharsets.UTF_8));
                        TopKLines lines = new TopKLines(text, format, labels, top, classes, null);
                        devices.run(source, (b, y) -> {
                            lines.accept(b, y);
                            done.addAndGet(b.size());
                            progress.advanceWithRate(b.size(), "img/s");
                        });
                        text.flush();   // not close: the channel belongs to AtomicFiles
                    });
                }
            } finally {
                progress.close();
            }
            seconds = (System.nanoTime() - t0) / 1e9;
            List<ImageBatches.Skipped> skipped = source.skipped();
            PrintWriter err = err();
            if (!skipped.isEmpty()) {
                err.println(sharding.prefix() + "skipped " + skipped.size() + " unreadable image" + (skipped.size() == 1 ? "" : "s") + ":");
                for (ImageBatches.Skipped s : skipped) err.println("  " + s.reason());
            }
        }
        if (held != null) {
            float[] probabilities = sharding.gather(held.rows());
            List<String> names = sharding.gatherNames(held.names());
            if (sharding.writesOutput() && !names.isEmpty()) {
                Tensor gathered = new Tensor(Shape.of(names.size(), classes), probabilities);
                if (target == null) {
                    PrintWriter out = out();
                    new TopKLines(out, format, labels, top, classes, out::flush).accept(0, names, gathered);
                } else {
                    AtomicFiles.write(target, channel -> {
                        Writer text = new BufferedWriter(Channels.newWriter(channel, StandardCharsets.UTF_8));
                        new TopKLines(text, format, labels, top, classes, null).accept(0, names, gathered);
                        text.flush();   // not close: the channel belongs to AtomicFiles
                    });
                }
            }
        }
        PrintWriter err = err();
        err.printf(Locale.ROOT, "%sclassified %d images on %s in %.2f s (%.2f img/s)%s%n", sharding.prefix(), done.get(), devicesLabel, seconds, done.get() / seconds,
                target == null || !sharding.writesOutput() ? "" : ", wrote " + target);
        err.flush();
        return 0;
    }

    static final class InterpolationConverter implements picocli.CommandLine.ITypeConverter<Interpolation> {
        @Override public Interpolation convert(String value) {
            try {
                return Interpolation.parse(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
