package io.jxception.cli;

import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.weights.WeightsFiles;
import io.jxception.weights.XceptionWeights;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A {@code --weights} file (Keras .h5 or safetensors, Keras or timm names) loaded for one input
 * size. The network's width, middle blocks, classes and top come from the file; every error names it.
 */
final class WeightsArgument {
    private WeightsArgument() {}

    /**
     * Loads {@code file} for inputs of {@code h × w}. With {@code features}, the classifier is dropped
     * (if the file has one) and the network ends in global average pooling: output (N, 2048·width).
     * Without, the file must have the classifier top.
     */
    static XceptionWeights load(Path file, int h, int w, boolean features) throws IOException {
        if (!Files.exists(file)) throw new IOException("weights file not found: " + file);
        if (Files.isDirectory(file)) throw new IOException("weights file " + file + " is a folder: give the .h5 or .safetensors file in it");
        if (!Files.isRegularFile(file)) throw new IOException("weights file " + file + " is not a regular file (a device, fifo or socket)");
        try {
            XceptionConfig config = WeightsFiles.inferConfig(file, h, w);
            if (features) {
                config = config.withoutTop(Pooling.AVG); // WeightsFiles.load leaves a stored classifier out
            } else if (!config.includeTop()) {
                throw new IOException("weights file " + file + " has no classifier (saved with include_top=False): use --features for pooled features");
            }
            return WeightsFiles.load(file, XceptionGraph.build(config));
        } catch (IOException | RuntimeException e) {
            // the weights package names the file by its last part ("x.h5: ..."); give the path as typed
            String m = Failure.message(e), name = file.getFileName() + ":";
            if (m.startsWith(name)) m = file + m.substring(name.length() - 1);
            else if (!m.contains(file.toString())) m = "weights file " + file + ": " + m;
            throw new IOException(m, e);
        }
    }
}
