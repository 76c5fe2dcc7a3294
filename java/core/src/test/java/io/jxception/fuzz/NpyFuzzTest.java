package io.jxception.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jxception.internal.tensor.NpyDtype;
import io.jxception.internal.tensor.NpyReader;
import io.jxception.tensor.Tensor;
import io.jxception.tensor.Uint8Tensor;

import java.io.IOException;

/**
 * The streaming {@code .npy} reader ({@link NpyReader}: strict header, memory-mapped rows) on
 * arbitrary bytes: it opens the file and reads every row (in pieces of up to 64 rows, as infer's
 * batches do), with exactly the values the header's size promises, or refuses it with an
 * IOException whose printable message names the file. Anything else (another exception, an
 * OutOfMemoryError from a size it trusted, a mapping beyond the file's end, a hang) is a finding.
 */
class NpyFuzzTest {
    @FuzzTest(maxDuration = "5m")
    void readsOrRefuses(byte[] data) throws IOException {
        java.nio.file.Path file = FuzzFiles.write(data, ".npy");
        NpyReader reader;
        try {
            reader = NpyReader.open(file);
        } catch (IOException e) {
            FuzzFiles.requirePrintableMessage(e);
            if (!e.getMessage().contains(file.toString())) throw new AssertionError("message does not name the file: " + e.getMessage(), e);
            return;
        }
        try (reader) {
            long claimed = reader.header().dataOffset() + reader.header().dataBytes();
            if (claimed != data.length) throw new AssertionError("header accounts for " + claimed + " bytes of a " + data.length + "-byte file");
            long rows = reader.rows(), values = 0;
            for (long from = 0; from < rows; from += 64) {
                long to = Math.min(rows, from + 64);
                if (reader.rowElements() * (to - from) > Integer.MAX_VALUE - 8) return; // over a Java array: refused by readFloats, not a read
                if (reader.dtype() == NpyDtype.U8) {
                    Uint8Tensor t = reader.readUint8(from, to);
                    values += t.shape().size();
                } else {
                    Tensor t = reader.readFloats(from, to);
                    values += t.shape().size();
                }
            }
            if (values != reader.header().elements()) throw new AssertionError(values + " values read of " + reader.header().elements());
        }
    }
}
