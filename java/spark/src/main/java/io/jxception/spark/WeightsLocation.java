package io.jxception.spark;

import org.apache.spark.SparkFiles;

import java.io.Serializable;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Where each executor finds the weights file (Keras {@code .h5} or safetensors, as
 * {@code jxception classify --weights} takes): either a path that every executor can read (a shared
 * file system, or the same file at the same place on every machine), or the name of a file shipped
 * to every executor with {@code spark-submit --files} or {@code SparkContext.addFile}, found there
 * through {@link SparkFiles#get}.
 *
 * <p>An executor reads the file once, when its first task needs it (see {@link ImageInference}).
 * Immutable and thread-safe.
 */
public final class WeightsLocation implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String path;          // absolute local path; null when shipped with SparkFiles
    private final String sparkFileName; // the name given to addFile / --files; null for a path

    private WeightsLocation(String path, String sparkFileName) {
        this.path = path;
        this.sparkFileName = sparkFileName;
    }

    /**
     * A file at {@code path} on every executor. A relative path is made absolute against the
     * working directory of the JVM that calls this (the driver), because executors run in folders
     * of their own; a {@code file:} URI is accepted.
     *
     * @throws IllegalArgumentException for an empty path or a URI of another scheme
     */
    public static WeightsLocation path(String path) {
        Objects.requireNonNull(path, "path");
        if (path.isBlank()) throw new IllegalArgumentException("weights path is empty");
        Path local;
        if (path.startsWith("file:")) {
            local = Path.of(URI.create(path));
        } else if (path.matches("^[a-zA-Z][a-zA-Z0-9+.-]*://.*")) {
            throw new IllegalArgumentException("weights path " + path + " is not a local file: copy it to a path every executor can read,"
                    + " or ship it with spark-submit --files and use WeightsLocation.sparkFiles");
        } else {
            local = Path.of(path);
        }
        return new WeightsLocation(local.toAbsolutePath().normalize().toString(), null);
    }

    /** {@link #path(String)} of a {@link Path}. */
    public static WeightsLocation path(Path path) {
        return path(Objects.requireNonNull(path, "path").toString());
    }

    /**
     * The file that was added with {@code SparkContext.addFile(f)} or {@code spark-submit --files f}
     * under the name {@code fileName} (the last part of f): Spark copies it to every executor.
     *
     * @throws IllegalArgumentException for an empty name or one with a folder in it
     */
    public static WeightsLocation sparkFiles(String fileName) {
        Objects.requireNonNull(fileName, "fileName");
        if (fileName.isBlank() || fileName.contains("/")) {
            throw new IllegalArgumentException("SparkFiles name '" + fileName + "' must be a plain file name (the last part of the file given to addFile or --files)");
        }
        return new WeightsLocation(null, fileName);
    }

    /**
     * The local file in this JVM: the path itself, or where Spark put the shipped file. Call it on an
     * executor (or the driver) of a running Spark application for {@link #sparkFiles}.
     *
     * @throws IllegalStateException if the file is not there, naming where it was looked for
     */
    public Path resolve() {
        Path file = path != null ? Path.of(path) : Path.of(SparkFiles.get(sparkFileName));
        if (!Files.isRegularFile(file)) {
            String how = path != null
                    ? "the path must name the same readable file on every executor (a shared file system), or ship the file with --files and WeightsLocation.sparkFiles"
                    : "was it added with SparkContext.addFile or spark-submit --files under the name '" + sparkFileName + "'?";
            throw new IllegalStateException("weights file " + file + (Files.exists(file) ? " is not a regular file" : " not found") + ": " + how);
        }
        return file;
    }

    /** Equal when both name the same absolute path, or the same SparkFiles name. */
    @Override
    public boolean equals(Object o) {
        return o instanceof WeightsLocation w && Objects.equals(path, w.path) && Objects.equals(sparkFileName, w.sparkFileName);
    }

    /** Consistent with {@link #equals}. */
    @Override
    public int hashCode() { return Objects.hash(path, sparkFileName); }

    /** "/data/xception.h5", or "SparkFiles:xception.h5" for a shipped file. */
    @Override
    public String toString() { return path != null ? path : "SparkFiles:" + sparkFileName; }
}
