package io.jxception.spark;

import io.jxception.image.Interpolation;
import io.jxception.image.KerasPreprocessing;
import io.jxception.tensor.Tensor;

import java.io.File;
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
 * <p>Bytes (the {@code content} column of {@code spark.read.format("binaryFile")}) are written to a
 * temporary file first and decoded from there, because the library's public preprocessing reads
 * files only; the file is deleted right after. Instances are not shared between threads: one per task.
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
            return Decoded.failed(renamed(e, file.toString(), location));
        }
    }

    /** Decodes encoded image bytes (JPEG, PNG, GIF, BMP, TIFF); {@code name} stands for them in messages. */
    Decoded fromBytes(byte[] encoded, String name) {
        if (encoded.length == 0) return Decoded.failed(name + ": empty content (0 bytes), too small to be an image");
        Path spooled = null;
        try {
            spooled = Files.createTempFile(SpoolFolder.PATH, "image-", ".bin");
            Files.write(spooled, encoded);
            return new Decoded(KerasPreprocessing.load(spooled, size, size, interpolation), null);
        } catch (IOException | RuntimeException e) {
            if (spooled == null) {
                // not the image's fault: the executor cannot write its temporary folder
                throw new IllegalStateException("jxception-spark: cannot write a temporary file in " + SpoolFolder.PATH + " to decode " + name + ": " + e.getMessage(), e);
            }
            return Decoded.failed(renamed(e, spooled.toString(), name));
        } finally {
            if (spooled != null) {
                try {
                    Files.deleteIfExists(spooled);
                } catch (IOException ignored) {
                    // the folder is deleted at exit
                }
            }
        }
    }

    /** The exception's message with the file the library saw replaced by the row's own name. */
    private static String renamed(Exception e, String seen, String name) {
        String m = e.getMessage() != null ? e.getMessage() : e.toString();
        if (m.startsWith(seen)) return name + m.substring(seen.length());
        return name + ": " + m.replace(seen, name);
    }

    /** This JVM's folder for spooled image bytes, created on first use and deleted at exit. */
    private static final class SpoolFolder {
        static final Path PATH = create();

        private static Path create() {
            try {
                Path p = Files.createTempDirectory("jxception-spark-");
                File f = p.toFile();
                f.deleteOnExit();
                return p;
            } catch (IOException e) {
                throw new IllegalStateException("jxception-spark: cannot create a temporary folder in " + System.getProperty("java.io.tmpdir")
                        + " (java.io.tmpdir) to decode image bytes: " + e.getMessage(), e);
            }
        }
    }
}
