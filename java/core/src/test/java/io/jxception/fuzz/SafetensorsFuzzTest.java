package io.jxception.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jxception.internal.weights.SafetensorsReader;
import io.jxception.weights.WeightsFileException;

import java.io.IOException;

/**
 * The safetensors reader (weights and checkpoints) on arbitrary bytes: it reads the file or refuses
 * it with a {@link WeightsFileException} whose message is printable; anything else (another
 * exception, an OutOfMemoryError from a size it trusted, a hang) is a finding.
 */
class SafetensorsFuzzTest {
    @FuzzTest(maxDuration = "5m")
    void readsOrRefusesAsCorrupt(byte[] data) throws IOException {
        try {
            SafetensorsReader.Contents c = SafetensorsReader.read(FuzzFiles.write(data, ".safetensors"));
            long values = 0;
            for (var t : c.tensors().values()) values += t.size();
            if (values * 2 > data.length) throw new AssertionError(values + " values read from " + data.length + " bytes");
        } catch (WeightsFileException e) {
            FuzzFiles.requirePrintableMessage(e);
        }
    }
}
