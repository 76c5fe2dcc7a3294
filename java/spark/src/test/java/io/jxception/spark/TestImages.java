package io.jxception.spark;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** Image files written by the tests with ImageIO: good ones of several kinds and sizes, and bad ones. */
final class TestImages {
    private TestImages() {}

    /**
     * Eight good images in {@code dir}: JPEG and PNG, RGB, gray, RGBA, larger and smaller than the
     * input size, square and not. Each has its own smooth pattern plus noise, so predictions differ.
     */
    static List<Path> good(Path dir) throws IOException {
        record Spec(String name, int width, int height, int type, String format) {}
        List<Spec> specs = List.of(
                new Spec("rgb-large.jpg", 320, 240, BufferedImage.TYPE_INT_RGB, "jpg"),
                new Spec("rgb-small.png", 40, 30, BufferedImage.TYPE_INT_RGB, "png"),
                new Spec("gray.png", 90, 90, BufferedImage.TYPE_BYTE_GRAY, "png"),
                new Spec("gray.jpg", 71, 100, BufferedImage.TYPE_BYTE_GRAY, "jpg"),
                new Spec("alpha.png", 120, 80, BufferedImage.TYPE_INT_ARGB, "png"),
                new Spec("bgr.png", 71, 71, BufferedImage.TYPE_3BYTE_BGR, "png"),
                new Spec("tall.jpg", 60, 200, BufferedImage.TYPE_INT_RGB, "jpg"),
                new Spec("wide.png", 300, 50, BufferedImage.TYPE_INT_RGB, "png"));
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < specs.size(); i++) {
            Spec s = specs.get(i);
            Path f = dir.resolve(s.name());
            write(pattern(s.width(), s.height(), s.type(), 1000 + i), s.format(), f);
            files.add(f);
        }
        return files;
    }

    /**
     * A JPEG cut after its first 300 bytes, inside its Huffman tables. (ImageIO decodes a JPEG cut
     * later, inside the entropy-coded data, without an error, filling the missing rows; so do
     * {@code jxception classify} and this module, where Pillow would refuse the file.)
     */
    static Path truncatedJpeg(Path dir) throws IOException {
        byte[] full = encode(pattern(300, 300, BufferedImage.TYPE_INT_RGB, 7), "jpg");
        return Files.write(dir.resolve("truncated.jpg"), Arrays.copyOf(full, 300));
    }

    /** A PNG cut in half (inside its image data). */
    static Path truncatedPng(Path dir) throws IOException {
        byte[] full = encode(pattern(100, 100, BufferedImage.TYPE_INT_RGB, 8), "png");
        return Files.write(dir.resolve("truncated.png"), Arrays.copyOf(full, full.length / 2));
    }

    /** 4 KiB of random bytes under an image's name. */
    static Path garbage(Path dir) throws IOException {
        byte[] noise = new byte[4096];
        new Random(9).nextBytes(noise);
        return Files.write(dir.resolve("garbage.jpg"), noise);
    }

    /** A text file: not an image. */
    static Path text(Path dir) throws IOException {
        return Files.writeString(dir.resolve("notes.txt"), "these are not pixels\n", StandardCharsets.UTF_8);
    }

    /** An empty file with a PNG name: too small to be an image. */
    static Path empty(Path dir) throws IOException {
        return Files.write(dir.resolve("empty.png"), new byte[0]);
    }

    private static BufferedImage pattern(int width, int height, int type, long seed) {
        Random random = new Random(seed);
        double fx = 0.02 + random.nextDouble() * 0.2, fy = 0.02 + random.nextDouble() * 0.2, phase = random.nextDouble() * 6;
        BufferedImage image = new BufferedImage(width, height, type);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int r = clamp(128 + 100 * Math.sin(fx * x + phase) + random.nextInt(40) - 20);
                int g = clamp(128 + 100 * Math.cos(fy * y) + random.nextInt(40) - 20);
                int b = clamp((x * 255.0) / width);
                int a = clamp(255 - (y * 200.0) / height);
                image.setRGB(x, y, a << 24 | r << 16 | g << 8 | b);
            }
        }
        return image;
    }

    private static int clamp(double v) { return (int) Math.max(0, Math.min(255, Math.round(v))); }

    private static byte[] encode(BufferedImage image, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(image, format, out)) throw new IOException("no ImageIO writer for " + format + " of type " + image.getType());
        return out.toByteArray();
    }

    private static void write(BufferedImage image, String format, Path file) throws IOException {
        Files.write(file, encode(image, format));
    }
}
