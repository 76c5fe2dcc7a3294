package io.jxception.cli;

import io.jxception.internal.image.InputBatches;
import io.jxception.internal.text.Printable;
import io.jxception.internal.backend.KernelBackend;
import io.jxception.exec.InferenceSession;
import io.jxception.internal.image.ImageFiles;
import io.jxception.image.ImageNetLabels;
import io.jxception.image.Interpolation;
import io.jxception.image.KerasPreprocessing;
import io.jxception.internal.image.RgbImage;
import io.jxception.image.TopK;
import io.jxception.model.XceptionConfig;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code jxception classify}: images → top-k classes with probabilities, as Keras'
 * {@code decode_predictions(model.predict(preprocess_input(load_img(f, target_size))))} prints them.
 * Every image is decoded before the network runs, so a bad file fails the command before any output.
 */
@Command(name = "classify", mixinStandardHelpOptions = true,
        description = "Print the top classes of each image (ImageNet labels when the weights have 1000 classes).")
final class ClassifyCommand extends Subcommand {
    @Mixin BackendOptions backendOptions;

    @Option(names = "--weights", required = true, paramLabel = "FILE", description = "Keras .h5 or safetensors weights with the classifier.")
    Path weightsFile;

    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "JPEG or PNG files.")
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

    @Option(names = "--shard", paramLabel = "i/n|auto",
            description = {"Classify shard i of n of the images (whole batches; printed in order, the shards' outputs concatenate to the whole); "
                    + "auto: i and n from the launcher without MPI.",
                    "Without it, under mpirun or srun every rank classifies its share and rank 0 prints them all."})
    String shardOption;

    @Override
    int execute() throws Exception {
        if (top < 1) throw usage("--top must be at least 1, got " + top);
        if (batch < 1) throw usage("--batch must be at least 1, got " + batch);
        if (size < XceptionConfig.MIN_INPUT || size > XceptionConfig.MAX_INPUT) {
            throw usage("--size must be from " + XceptionConfig.MIN_INPUT + " to " + XceptionConfig.MAX_INPUT + ", got " + size);
        }
        Sharding sharding;
        try {
            sharding = Sharding.open(shardOption);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        try (sharding) {
            return JobFailure.abortingJob(sharding.communicator(), out(), err(), () -> classify(sharding));
        }
    }

    private int classify(Sharding sharding) throws IOException {
        io.jxception.distributed.RankInfo.Share share = sharding.range(images.size(), batch);
        images = new ArrayList<>(images.subList((int) share.first(), (int) share.end())); // this process's images, decoded by it alone
        java.io.StringWriter gathered = new java.io.StringWriter();
        List<RgbImage> decoded = new ArrayList<>();
        for (Path p : images) decoded.add(ImageFiles.read(p).resize(size, size, interpolation));
        XceptionWeights weights = WeightsArgument.load(weightsFile, size, size, false);
        int classes = weights.graph().config().classes();
        ImageNetLabels labels = classes == ImageNetLabels.CLASSES ? ImageNetLabels.load() : null;
        PrintWriter out = sharding.gathers() ? new PrintWriter(gathered) : out();
        try (KernelBackend backend = backendOptions.open(sharding.gathers());
             InferenceSession session = new InferenceSession(backend, weights, Math.max(1, Math.min(batch, decoded.size())))) {
            for (int start = 0; start < decoded.size(); start += batch) {
                List<RgbImage> chunk = decoded.subList(start, Math.min(start + batch, decoded.size()));
                Tensor probabilities = session.run(InputBatches.of(chunk)); // (n, classes)
                for (int i = 0; i < chunk.size(); i++) {
                    out.println(Printable.escape(images.get(start + i).toString()));
                    for (TopK.Entry e : TopK.of(probabilities.data(), i * classes, classes, top)) {
                        String name = labels == null ? "class " + e.index()
                                : labels.get(e.index()).wnid() + "  " + labels.get(e.index()).label();
                        out.printf(Locale.ROOT, "  %.4f  %s%n", e.value(), name);
                    }
                }
                out.flush();
            }
        }
        if (sharding.gathers()) {
            String all = sharding.gather(gathered.toString());
            if (all != null) {
                out().print(all);
                out().flush();
            }
        }
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
