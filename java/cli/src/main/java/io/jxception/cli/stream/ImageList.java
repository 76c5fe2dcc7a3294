package io.jxception.cli.stream;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The images named on a command line, in a fixed order: an image file as given; a folder, every
 * image file under it (JPEG, PNG, GIF, BMP, TIFF by extension, any depth, symbolic links to
 * folders not followed) sorted by path; a list file ({@code .txt} or {@code .lst}), one path per
 * line, relative paths taken from the list's folder, blank lines and lines starting with '#'
 * ignored. Files are not opened here: a missing or bad one fails (or is skipped) when decoded.
 */
public final class ImageList {
    /** File name endings taken from folders (lower case). */
    public static final Set<String> IMAGE_EXTENSIONS = Set.of("jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff");

    private ImageList() {}

    /** One image: its name in outputs (the path as given or found) and the path to read. */
    public record Entry(String name, Path path) {}

    public static List<Entry> expand(List<Path> arguments) throws IOException {
        List<Entry> out = new ArrayList<>();
        for (Path p : arguments) {
            if (Files.isDirectory(p)) {
                List<Path> found;
                try (Stream<Path> walk = Files.walk(p)) {
                    found = walk.filter(f -> Files.isRegularFile(f) && IMAGE_EXTENSIONS.contains(extension(f))).sorted().toList();
                }
                if (found.isEmpty()) throw new IOException("folder " + p + " holds no images (" + String.join(", ", IMAGE_EXTENSIONS.stream().sorted().toList()) + ")");
                for (Path f : found) out.add(new Entry(f.toString(), f));
            } else if (isList(p)) {
                if (!Files.isRegularFile(p)) throw new IOException("image list " + p + " is not a readable file");
                Path base = p.toAbsolutePath().getParent();
                int before = out.size();
                for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
                    String t = line.strip();
                    if (t.isEmpty() || t.startsWith("#")) continue;
                    Path f = Path.of(t);
                    out.add(new Entry(t, f.isAbsolute() || base == null ? f : base.resolve(f)));
                }
                if (out.size() == before) throw new IOException("image list " + p + " names no images");
            } else {
                out.add(new Entry(p.toString(), p));
            }
        }
        return out;
    }

    /** Whether {@code p} names a list of images rather than an image. */
    public static boolean isList(Path p) {
        String e = extension(p);
        return e.equals("txt") || e.equals("lst");
    }

    private static String extension(Path p) {
        String n = p.getFileName() == null ? "" : p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot < 0 ? "" : n.substring(dot + 1).toLowerCase(Locale.ROOT);
    }
}
