package io.jxception.internal.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * A labelled image set laid out as one sub-folder per class ({@code root/<class>/<image>.png|jpg}),
 * the layout of Keras' {@code image_dataset_from_directory}: classes are the sub-folder names in
 * sorted order, so label i is the i-th name; files are sorted too, so the list is reproducible.
 */
public record ImageFolder(Path root, List<String> classes, List<Example> examples) {
    /** One image and its class index. */
    public record Example(Path file, int label) {}

    public ImageFolder {
        classes = List.copyOf(classes);
        examples = List.copyOf(examples);
    }

    public static ImageFolder scan(Path root) throws IOException {
        if (!Files.isDirectory(root)) throw new IOException("image folder " + root + " does not exist or is not a folder");
        List<Path> classDirs;
        try (Stream<Path> s = Files.list(root)) {
            classDirs = s.filter(Files::isDirectory).filter(p -> !p.getFileName().toString().startsWith("."))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        }
        if (classDirs.size() < 2) {
            throw new IOException("image folder " + root + " has " + classDirs.size() + " class sub-folders; expected one sub-folder per class (at least 2), each holding that class's images");
        }
        List<String> classes = new ArrayList<>();
        List<Example> examples = new ArrayList<>();
        for (Path dir : classDirs) {
            int label = classes.size();
            classes.add(dir.getFileName().toString());
            List<Path> files;
            try (Stream<Path> s = Files.list(dir)) {
                files = s.filter(Files::isRegularFile).filter(ImageFolder::isImage)
                        .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
            }
            if (files.isEmpty()) throw new IOException("class folder " + dir + " holds no .png, .jpg or .jpeg images");
            for (Path f : files) examples.add(new Example(f, label));
        }
        return new ImageFolder(root, classes, examples);
    }

    /** The same classes with another example list (a split). */
    public ImageFolder withExamples(List<Example> subset) { return new ImageFolder(root, classes, subset); }

    /** Checks that another folder (e.g. a separate validation tree) has the same classes in the same order. */
    public void requireSameClasses(ImageFolder other) {
        if (!classes.equals(other.classes)) {
            throw new IllegalArgumentException("class folders differ: " + root + " has " + classes + " but " + other.root + " has " + other.classes);
        }
    }

    /**
     * Splits off a validation set: within each class, a seeded shuffle puts {@code round(n·fraction)}
     * images (at least one) into validation and the rest into training, so both keep the class balance.
     */
    public Split split(double validationFraction, long seed) {
        if (!(validationFraction > 0 && validationFraction < 1)) {
            throw new IllegalArgumentException("validation fraction must be in (0, 1), got " + validationFraction);
        }
        Rng rng = new Rng(seed);
        List<Example> train = new ArrayList<>(), val = new ArrayList<>();
        for (int label = 0; label < classes.size(); label++) {
            List<Example> ofClass = new ArrayList<>();
            for (Example e : examples) if (e.label() == label) ofClass.add(e);
            int[] order = new int[ofClass.size()];
            for (int i = 0; i < order.length; i++) order[i] = i;
            rng.shuffle(order);
            int nVal = (int) Math.max(1, Math.round(ofClass.size() * validationFraction));
            if (nVal >= ofClass.size()) {
                throw new IllegalArgumentException("class '" + classes.get(label) + "' has only " + ofClass.size() + " images: too few to split off a validation fraction of " + validationFraction);
            }
            for (int i = 0; i < order.length; i++) (i < nVal ? val : train).add(ofClass.get(order[i]));
        }
        return new Split(withExamples(train), withExamples(val));
    }

    public record Split(ImageFolder train, ImageFolder validation) {}

    private static boolean isImage(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg");
    }
}
