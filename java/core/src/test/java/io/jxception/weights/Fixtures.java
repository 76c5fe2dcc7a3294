package io.jxception.weights;

import io.jxception.tensor.Npy;
import io.jxception.tensor.Tensor;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The files of weights/fixtures/h5 (written by weights/fixtures/generate_h5_fixtures.py) and comparisons. */
final class Fixtures {
    private Fixtures() {}

    static Path h5(String name) {
        URL url = Fixtures.class.getResource("/fixtures/h5/" + name);
        if (url == null) throw new IllegalStateException("fixture " + name + " is missing: run weights/fixtures/generate_h5_fixtures.py");
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** expected/<layer>__<weight>.npy as Keras key → tensor, in XceptionGraph's names. */
    static Map<String, Tensor> expectedTiny() throws IOException {
        Map<String, Tensor> out = new TreeMap<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(h5("expected"), "*.npy")) {
            for (Path p : dir) {
                String name = p.getFileName().toString();
                String key = name.substring(0, name.length() - ".npy".length()).replace("__", "/");
                out.put(key, Npy.read(p));
            }
        }
        return out;
    }

    /** Keys whose tensor differs in shape or in any value (bitwise), or is missing on either side. */
    static List<String> mismatches(Map<String, Tensor> actual, Map<String, Tensor> expected) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : expected.entrySet()) {
            Tensor a = actual.get(e.getKey());
            if (a == null) out.add(e.getKey() + " missing");
            else if (!a.shape().equals(e.getValue().shape())) out.add(e.getKey() + " shape " + a.shape() + " != " + e.getValue().shape());
            else if (!Arrays.equals(a.data(), e.getValue().data())) out.add(e.getKey() + " values differ");
        }
        for (String k : actual.keySet()) if (!expected.containsKey(k)) out.add(k + " unexpected");
        return out;
    }

    /** A copy of {@code file} in {@code dir} with the bytes of {@code from} replaced by {@code to}, which must occur exactly once. */
    static Path patched(Path file, Path dir, byte[] from, byte[] to) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int found = -1;
        for (int i = 0; i + from.length <= bytes.length; i++) {
            if (Arrays.equals(bytes, i, i + from.length, from, 0, from.length)) {
                if (found >= 0) throw new IllegalStateException("pattern occurs more than once in " + file);
                found = i;
            }
        }
        if (found < 0) throw new IllegalStateException("pattern not found in " + file);
        System.arraycopy(to, 0, bytes, found, to.length);
        Path out = dir.resolve("patched-" + file.getFileName());
        Files.write(out, bytes);
        return out;
    }

    /** The first {@code length} bytes of {@code file}, as a new file in {@code dir}. */
    static Path cut(Path file, Path dir, long length) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        Path out = dir.resolve("cut" + length + "-" + file.getFileName());
        Files.write(out, Arrays.copyOf(bytes, (int) length));
        return out;
    }
}
