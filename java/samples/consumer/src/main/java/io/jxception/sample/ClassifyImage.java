package io.jxception.sample;

import io.jxception.backend.Backend;
import io.jxception.backend.Backends;
import io.jxception.backend.Precision;
import io.jxception.exec.InferenceSession;
import io.jxception.image.ImageNetLabels;
import io.jxception.image.Interpolation;
import io.jxception.image.KerasPreprocessing;
import io.jxception.image.TopK;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Tensor;
import io.jxception.weights.WeightsFiles;
import io.jxception.weights.XceptionWeights;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The README's "Using it from Java" example as an application: classifies one image with a Keras
 * weights file on a named backend and returns the top 5 as lines "probability label".
 *
 * <pre>java -cp ... io.jxception.sample.ClassifyImage WEIGHTS.h5 IMAGE [BACKEND] [SIZE]</pre>
 */
public final class ClassifyImage {
    private ClassifyImage() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: ClassifyImage WEIGHTS IMAGE [BACKEND] [SIZE]");
            System.exit(2);
        }
        int size = args.length > 3 ? Integer.parseInt(args[3]) : 299;
        for (String line : classify(Path.of(args[0]), Path.of(args[1]), args.length > 2 ? args[2] : "auto", size)) System.out.println(line);
    }

    /** The top 5 classes of {@code image}: "0.8123 tabby" (ImageNet labels with 1000 classes, "class i" otherwise). */
    public static List<String> classify(Path weightsFile, Path image, String backendName, int size) throws IOException {
        XceptionConfig config = WeightsFiles.inferConfig(weightsFile, size, size);          // width, classes, top from the file
        XceptionWeights weights = WeightsFiles.load(weightsFile, XceptionGraph.build(config));
        ImageNetLabels labels = config.classes() == ImageNetLabels.CLASSES ? ImageNetLabels.load() : null;
        List<String> lines = new ArrayList<>();
        try (Backend backend = Backends.open(backendName, Precision.FP32);
             InferenceSession session = new InferenceSession(backend, weights, 32)) {
            Tensor x = KerasPreprocessing.load(image, size, size, Interpolation.NEAREST); // (1, size, size, 3)
            Tensor probabilities = session.run(x);                                         // (1, classes), softmax
            for (TopK.Entry e : TopK.of(probabilities.data(), 5)) {
                lines.add(String.format(java.util.Locale.ROOT, "%.4f %s", e.value(), labels == null ? "class " + e.index() : labels.get(e.index()).label()));
            }
        }
        return lines;
    }
}
