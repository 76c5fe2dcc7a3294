package io.jxception.spark;

import io.jxception.image.Interpolation;
import io.jxception.image.KerasPreprocessing;
import io.jxception.tensor.Tensor;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One row's image → the network's input (1, S, S, 3), preprocessed exactly as {@code jxception
 * classify} does it ({@link KerasPreprocessing#load}: decode, Pillow's resize, x / 127.5 − 1), or
 * the reason it cannot be: a missing or unreadable file, an empty one, content that no decoder
 * recognises or that is corrupt or truncated. Never throws for a bad image.
 *
 * Bytes (the {@code content} column of {@code spark.read.format("binaryFile")}) are decoded in
 * memory by {@link KerasPreprocessing#decode}, the same decoder. Immutable; safe to share.
 */
final class ImageDecoder {
    /** The network input of one row, or why there is none (exactly one is non-null). */
    record Decoded(Tensor image, String error) {
        static Decoded failed(String error) { return new Decoded(null, error); }
    }

    private final int size;
    private final Interpolation interpolation;

    ImageDecoder(int size, Interpolation interpolation) {
        this.size = size;
        this.interpolation = interpolation;
    }

    /**
     * Decodes the local file named by {@code location}: a plain path or a {@code file:} URI as
     * {@code binaryFile}'s {@code path} column holds it. Other schemes (hdfs:, s3a:) are refused per
     * row: those files are read by Spark's {@code binaryFile} source and passed as bytes.
     */
    Decoded fromPath(String location) {
        Path file;
        try {
            URI uri = new org.apache.hadoop.fs.Path(location).toUri(); // parses unescaped names as binaryFile writes them
            String scheme = uri.getScheme();
            if (scheme != null && !scheme.equals("file")) {
                return Decoded.failed(location + ": only local files are read from a path column, not " + scheme
                        + ": read the files with spark.read.format(\"binaryFile\") and classify its content column");
            }
            file = Path.of(uri.getPath());
        } catch (IllegalArgumentException e) {
            return Decoded.failed(location + ": not a file path (" + e.getMessage() + ")");
        }
        try {
            if (Files.isRegularFile(file) && Files.size(file) == 0) return Decoded.failed(location + ": empty file (0 bytes), too small to be an image");
            return new Decoded(KerasPreprocessing.load(file, size, size, interpolation), null);
        } catch (IOException | RuntimeException e) {
            String seen = file.toString(); // the library names the file as it was given; the row names it by its location
            return Decoded.failed(location + message(e, seen).substring(seen.length()));
        }
    }

    /** Decodes encoded image bytes (JPEG, PNG; also GIF, BMP, TIFF); {@code name} stands for them in messages. */
    Decoded fromBytes(byte[] encoded, String name) {
        if (encoded.length == 0) return Decoded.failed(name + ": empty content (0 bytes), too small to be an image");
        try {
            return new Decoded(KerasPreprocessing.decode(encoded, name, size, size, interpolation), null);
        } catch (IOException | RuntimeException e) {
            return Decoded.failed(message(e, name));
        }
    }

    /** The exception's message, which the library starts with the image's name; prefixed with the name where it does not. */
    private static String message(Exception e, String name) {
        String m = e.getMessage() != null ? e.getMessage() : e.toString();
        return m.startsWith(name) ? m : name + ": " + m;
    }
}
