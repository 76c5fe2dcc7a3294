package io.jxception.image;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The 1000 ImageNet classes in Keras' order ({@code imagenet_class_index.json}, as used by
 * {@code decode_predictions}): index → (WordNet id, label). The file is shipped in the jar from
 * {@code weights/imagenet_class_index.json}.
 */
public final class ImageNetLabels {
    public static final String RESOURCE = "/io/jxception/weights/imagenet_class_index.json";
    public static final int CLASSES = 1000;

    /** One class: WordNet id ("n02123045") and Keras' label ("tabby"). */
    public record ImageNetClass(String wnid, String label) {}

    // "123": ["n01234567", "label"] — labels hold letters, digits, '_', '-', '\'' and '.', no escapes
    private static final Pattern ENTRY = Pattern.compile("\"(\\d+)\"\\s*:\\s*\\[\\s*\"([^\"\\\\]*)\"\\s*,\\s*\"([^\"\\\\]*)\"\\s*\\]");

    private final List<ImageNetClass> classes;

    private ImageNetLabels(List<ImageNetClass> classes) { this.classes = List.copyOf(classes); }

    /** The shipped class index. */
    public static ImageNetLabels load() throws IOException {
        try (InputStream in = ImageNetLabels.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IOException("ImageNet class index " + RESOURCE + " is not on the classpath: is the jar built with 'mvn package'?");
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), RESOURCE);
        }
    }

    /** Parses Keras' JSON format {"0": ["n01440764", "tench"], ...}; indices must be exactly 0..n-1. */
    public static ImageNetLabels parse(String json, String what) throws IOException {
        List<int[]> order = new ArrayList<>();
        List<ImageNetClass> found = new ArrayList<>();
        Matcher m = ENTRY.matcher(json);
        int end = 0;
        while (m.find()) {
            String between = json.substring(end, m.start()).replaceAll("[\\s{},]", "");
            if (!between.isEmpty()) throw new IOException(what + ": unexpected content near '" + abbreviate(between) + "'");
            order.add(new int[]{Integer.parseInt(m.group(1)), found.size()});
            found.add(new ImageNetClass(m.group(2), m.group(3)));
            end = m.end();
        }
        String rest = json.substring(end).replaceAll("[\\s{},]", "");
        if (!rest.isEmpty()) throw new IOException(what + ": unexpected content near '" + abbreviate(rest) + "'");
        if (found.isEmpty()) throw new IOException(what + ": no classes found; expected {\"0\": [\"n01440764\", \"tench\"], ...}");
        ImageNetClass[] byIndex = new ImageNetClass[found.size()];
        for (int[] e : order) {
            int index = e[0];
            if (index >= byIndex.length) throw new IOException(what + ": class index " + index + " out of range for " + byIndex.length + " classes");
            if (byIndex[index] != null) throw new IOException(what + ": class index " + index + " appears twice");
            byIndex[index] = found.get(e[1]);
        }
        return new ImageNetLabels(Arrays.asList(byIndex));
    }

    private static String abbreviate(String s) { return s.length() > 40 ? s.substring(0, 40) + "..." : s; }

    public int size() { return classes.size(); }

    public ImageNetClass get(int index) {
        if (index < 0 || index >= classes.size()) throw new IndexOutOfBoundsException("class " + index + " of " + classes.size());
        return classes.get(index);
    }
}
