package io.jxception.image;

import io.jxception.internal.json.Json;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The 1000 ImageNet classes in Keras' order ({@code imagenet_class_index.json}, as used by
 * {@code decode_predictions}): index → (WordNet id, label). The file is shipped in the jar from
 * {@code weights/imagenet_class_index.json}. Immutable; safe to share between threads.
 */
public final class ImageNetLabels {
    /** Where the class index lies on the class path. */
    public static final String RESOURCE = "/io/jxception/weights/imagenet_class_index.json";
    /** The number of ImageNet classes, as a 1000-class Xception's top predicts them. */
    public static final int CLASSES = 1000;

    /**
     * One class.
     *
     * @param wnid  WordNet id, e.g. "n02123045"
     * @param label Keras' label, e.g. "tabby"
     */
    public record ImageNetClass(String wnid, String label) {}

    private final List<ImageNetClass> classes;

    private ImageNetLabels(List<ImageNetClass> classes) { this.classes = List.copyOf(classes); }

    /**
     * The class index shipped in the jar.
     *
     * @throws IOException when the resource is missing or damaged
     */
    public static ImageNetLabels load() throws IOException {
        try (InputStream in = ImageNetLabels.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IOException("ImageNet class index " + RESOURCE + " is not on the classpath: is the jar built with 'mvn package'?");
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), RESOURCE);
        }
    }

    /**
     * Parses Keras' JSON format {@code {"0": ["n01440764", "tench"], ...}} (strict JSON); the keys
     * must be exactly the indices 0..n-1, each value a [WordNet id, label] pair of strings.
     *
     * @param what names the source in error messages
     * @throws IOException naming {@code what} and the problem
     */
    public static ImageNetLabels parse(String json, String what) throws IOException {
        Map<String, Object> root;
        try {
            root = Json.parseObject(json);
        } catch (IllegalArgumentException e) {
            throw new IOException(what + ": not a JSON object: " + e.getMessage(), e);
        }
        if (root.isEmpty()) throw new IOException(what + ": no classes found; expected {\"0\": [\"n01440764\", \"tench\"], ...}");
        ImageNetClass[] byIndex = new ImageNetClass[root.size()];
        for (Map.Entry<String, Object> e : root.entrySet()) {
            int index;
            try {
                index = Integer.parseInt(e.getKey());
            } catch (NumberFormatException x) {
                throw new IOException(what + ": key '" + abbreviate(e.getKey()) + "' is not a class index");
            }
            if (index < 0 || index >= byIndex.length || !e.getKey().equals(Integer.toString(index))) {
                throw new IOException(what + ": class index " + abbreviate(e.getKey()) + " out of range for " + byIndex.length + " classes");
            }
            if (!(e.getValue() instanceof List<?> pair) || pair.size() != 2 || !(pair.get(0) instanceof String wnid) || !(pair.get(1) instanceof String label)) {
                throw new IOException(what + ": class " + index + " is not a [WordNet id, label] pair of strings");
            }
            byIndex[index] = new ImageNetClass(wnid, label);
        }
        return new ImageNetLabels(Arrays.asList(byIndex));
    }

    private static String abbreviate(String s) { return s.length() > 40 ? s.substring(0, 40) + "..." : s; }

    /** The number of classes. */
    public int size() { return classes.size(); }

    /**
     * Class {@code index} (0-based, as the network's output columns).
     *
     * @throws IndexOutOfBoundsException outside 0..size()-1
     */
    public ImageNetClass get(int index) {
        if (index < 0 || index >= classes.size()) throw new IndexOutOfBoundsException("class " + index + " of " + classes.size());
        return classes.get(index);
    }
}
