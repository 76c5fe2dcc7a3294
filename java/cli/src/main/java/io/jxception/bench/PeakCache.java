package io.jxception.bench;

import io.jxception.internal.json.Json;
import io.jxception.internal.tensor.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Measured peaks per device, kept in a JSON file ({@link #defaultFile}: ~/.cache/jxception/peaks.json)
 * keyed by the backend's description ({@link #key}), so each device is probed once. An unreadable
 * file is reported and ignored (the peaks are measured again and the file rewritten).
 */
public final class PeakCache {
    private final Path file;
    private final Map<String, Peaks> entries = new LinkedHashMap<>();

    private PeakCache(Path file) { this.file = file; }

    public static Path defaultFile() {
        return Path.of(System.getProperty("user.home"), ".cache", "jxception", "peaks.json");
    }

    /** Reads {@code file} if it exists; {@code warnings} receives a line when it cannot be used. */
    public static PeakCache load(Path file, java.util.function.Consumer<String> warnings) {
        PeakCache c = new PeakCache(file);
        if (!Files.exists(file)) return c;
        try {
            Map<String, Object> root = Json.parseObject(Files.readString(file, StandardCharsets.UTF_8));
            for (Map.Entry<String, Object> e : root.entrySet()) {
                if (e.getValue() instanceof Map<?, ?> m) c.entries.put(key(e.getKey()), Peaks.fromJson(m.get("device") instanceof String d ? d : e.getKey(), m));
            }
        } catch (IOException | IllegalArgumentException e) {
            warnings.accept("ignoring the peaks cache " + file + " (" + e.getMessage() + "); peaks will be measured again");
            c.entries.clear();
        }
        return c;
    }

    public Path file() { return file; }

    /** The peaks of the device a backend describes this way, if measured before. */
    public Optional<Peaks> get(String description) { return Optional.ofNullable(entries.get(key(description))); }

    /**
     * The cache key of a backend description: the description without memory sizes ("6.6 GiB"),
     * which some drivers report as the memory free at the moment (pocl does), so that the same
     * device finds its entry from one run to the next.
     */
    static String key(String description) {
        return description.replaceAll("\\s*\\d+(\\.\\d+)?\\s*[KMGT]i?B\\b,?", "").trim();
    }

    /** Stores and writes the file at once (atomically), creating its folder. */
    public void put(Peaks peaks) {
        entries.put(key(peaks.device()), peaks);
        Map<String, Object> root = new LinkedHashMap<>();
        entries.forEach((k, v) -> {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("device", v.device());
            entry.putAll(v.toJson());
            root.put(k, entry);
        });
        try {
            Path dir = file.toAbsolutePath().getParent();
            if (dir != null) Files.createDirectories(dir);
            AtomicFiles.write(file, Json.write(root).getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the peaks cache " + file + ": " + e.getMessage(), e);
        }
    }
}
