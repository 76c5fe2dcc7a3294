package io.jxception.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.weights.WeightsFileException;
import io.jxception.weights.WeightsFiles;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A weights file (Keras HDF5 through jhdf, or safetensors: the format is told by the first bytes)
 * on arbitrary bytes, as {@code --weights} reads it: the configuration is inferred, then the weights
 * are loaded. It loads, or is refused with a printable {@link WeightsFileException}.
 */
class H5WeightsFuzzTest {
    @FuzzTest(maxDuration = "5m")
    void loadsOrRefusesAsCorrupt(byte[] data) throws IOException {
        Path file = FuzzFiles.write(data, ".h5");
        try {
            XceptionConfig config = WeightsFiles.inferConfig(file, 71, 71);
            WeightsFiles.load(file, XceptionGraph.build(config));
        } catch (WeightsFileException e) {
            FuzzFiles.requirePrintableMessage(e);
        }
    }
}
