package io.jxception.bench;

import io.jxception.tensor.AtomicFiles;

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
 * keyed by the backend's description, so each device is probed once. An unreadable file is
 * reported and ignored (the peaks are measured again and the file rewritten).
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
                if (e.getValue() instanceof Map<?, ?> m) c.entries.put(e.getKey(), Peaks.fromJson(e.getKey(), m));
            }
        } catch (IOException | IllegalArgumentException e) {
            warnings.accept("ignoring the peaks cache " + file + " (" + e.getMessage() + "); peaks will be measured again");
            c.entries.clear();
        }
        return c;
    }

    public Path file() { return file; }

    public Optional<Peaks> get(String device) { return Optional.ofNullable(entries.get(device)); }

    /** Stores and writes the file at once (atomically), creating its folder. */
    public void put(Peaks peaks) {
        entries.put(peaks.device(), peaks);
        Map<String, Object> root = new LinkedHashMap<>();
        entries.forEach((k, v) -> root.put(k, v.toJson()));
        try {
            Path dir = file.toAbsolutePath().getParent();
            if (dir != null) Files.createDirectories(dir);
            AtomicFiles.write(file, Json.write(root).getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the peaks cache " + file + ": " + e.getMessage(), e);
        }
    }
}
