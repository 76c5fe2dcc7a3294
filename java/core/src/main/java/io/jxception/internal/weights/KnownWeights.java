package io.jxception.internal.weights;

import io.jxception.internal.json.Json;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The Keras weights files this library knows (weights/manifest.json, packed as
 * {@code io/jxception/weights/manifest.json}): name, download URL, md5, size.
 */
public final class KnownWeights {
    private static final String RESOURCE = "/io/jxception/weights/manifest.json";

    /** One known file. {@code classes} is the ImageNet 1000 also for the notop file, which has no classifier. */
    public record Entry(String name, String url, String md5, long bytes, boolean includeTop, int classes) {}

    private KnownWeights() {}

    /** Every file of the manifest. */
    public static List<Entry> all() {
        try (InputStream in = KnownWeights.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException("resource " + RESOURCE + " is missing from the jar: a broken build");
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException | Json.SyntaxException e) {
            throw new IllegalStateException("cannot read " + RESOURCE + ": " + e.getMessage(), e);
        }
    }

    /** The known file this is (same size and md5), if any. Hashes only files of a known size. */
    public static Optional<Entry> identify(Path file) throws IOException {
        long size = Files.size(file);
        String md5 = null;
        for (Entry e : all()) {
            if (e.bytes() != size) continue;
            if (md5 == null) md5 = md5(file);
            if (md5.equals(e.md5())) return Optional.of(e);
        }
        return Optional.empty();
    }

    /** Hex md5 of a file, as Keras' get_file(file_hash=...) checks it. */
    public static String md5(Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this Java has no MD5", e);
        }
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) digest.update(buffer, 0, n);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    static List<Entry> parse(String json) throws Json.SyntaxException {
        Map<String, Object> root = Json.asObject(Json.parse(json));
        List<Entry> out = new ArrayList<>();
        if (root == null || !(root.get("files") instanceof List<?> files)) throw new IllegalStateException("manifest has no \"files\" list");
        for (Object f : files) {
            Map<String, Object> m = Json.asObject(f);
            if (m == null) throw new IllegalStateException("manifest entry is not an object: " + f);
            out.add(new Entry((String) m.get("name"), (String) m.get("url"), (String) m.get("md5"),
                    ((BigDecimal) m.get("bytes")).longValueExact(), (Boolean) m.get("includeTop"),
                    ((BigDecimal) m.get("classes")).intValueExact()));
        }
        return List.copyOf(out);
    }
}
