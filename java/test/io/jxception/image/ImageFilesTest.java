package io.jxception.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

class ImageFilesTest {
    @TempDir Path dir;

    private Path write(BufferedImage image, String format, String name) throws IOException {
        Path p = dir.resolve(name);
        assertTrue(ImageIO.write(image, format, p.toFile()), "no writer for " + format);
        return p;
    }

    private static BufferedImage gradient(int type, int h, int w) {
        BufferedImage im = new BufferedImage(w, h, type);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) im.setRGB(x, y, 0xff000000 | (x * 20) << 16 | (y * 30) << 8 | (x + y));
        return im;
    }

    @Test
    void pngRgbDecodesExactly() throws IOException {
        RgbImage im = ImageFiles.read(write(gradient(BufferedImage.TYPE_INT_RGB, 5, 7), "png", "rgb.png"));
        assertEquals(5, im.height());
        assertEquals(7, im.width());
        assertEquals(6 * 20, im.get(4, 6, 0));
        assertEquals(4 * 30, im.get(4, 6, 1));
        assertEquals(10, im.get(4, 6, 2));
    }

    @Test
    void grayscaleIsReplicatedWithoutGammaConversion() throws IOException {
        BufferedImage g = new BufferedImage(3, 2, BufferedImage.TYPE_BYTE_GRAY);
        g.getRaster().setSample(1, 1, 0, 100);
        RgbImage im = ImageFiles.read(write(g, "png", "gray.png"));
        // getRGB would turn linear gray 100 into sRGB ~170; Pillow's convert("RGB") keeps 100
        assertEquals(100, im.get(1, 1, 0));
        assertEquals(100, im.get(1, 1, 1));
        assertEquals(100, im.get(1, 1, 2));
        assertEquals(0, im.get(0, 0, 0));
    }

    @Test
    void sixteenBitGrayIsScaledTo8Bits() throws IOException {
        BufferedImage g = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_GRAY);
        g.getRaster().setSample(0, 0, 0, 65535);
        g.getRaster().setSample(1, 0, 0, 257 * 40);
        RgbImage im = ImageFiles.read(write(g, "png", "gray16.png"));
        assertEquals(255, im.get(0, 0, 1));
        assertEquals(40, im.get(0, 1, 1));
    }

    @Test
    void alphaIsDroppedNotComposited() throws IOException {
        BufferedImage a = new BufferedImage(1, 1, BufferedImage.TYPE_INT_ARGB);
        a.setRGB(0, 0, 0x10_20_40_60); // alpha 16 of 255
        RgbImage im = ImageFiles.read(write(a, "png", "rgba.png"));
        assertArrayEquals(new float[]{0x20, 0x40, 0x60}, im.pixels());
    }

    @Test
    void palettePngUsesItsColours() throws IOException {
        byte[] r = {0, (byte) 200}, g = {0, 10}, b = {0, 50};
        BufferedImage p = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(1, 2, r, g, b));
        p.getRaster().setSample(1, 0, 0, 1);
        RgbImage im = ImageFiles.read(write(p, "png", "palette.png"));
        assertArrayEquals(new float[]{0, 0, 0, 200, 10, 50}, im.pixels());
    }

    @Test
    void jpegDecodesCloseToItsSource() throws IOException {
        BufferedImage flat = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 16; y++) for (int x = 0; x < 16; x++) flat.setRGB(x, y, 0x80_40_c0);
        RgbImage im = ImageFiles.read(write(flat, "jpg", "flat.jpg"));
        assertEquals(16, im.width());
        assertEquals(0x80, im.get(8, 8, 0), 3);
        assertEquals(0x40, im.get(8, 8, 1), 3);
        assertEquals(0xc0, im.get(8, 8, 2), 3);
    }

    @Test
    void textFileIsNotAnImage() throws IOException {
        Path p = dir.resolve("notes.jpg");
        Files.writeString(p, "this is not an image\n");
        IOException e = assertThrows(IOException.class, () -> ImageFiles.read(p));
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("not an image"), e.getMessage());
    }

    @Test
    void emptyFileIsNotAnImage() throws IOException {
        Path p = Files.createFile(dir.resolve("empty.png"));
        IOException e = assertThrows(IOException.class, () -> ImageFiles.read(p));
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
    }

    @Test
    void truncatedPngNamesTheFile() throws IOException {
        Path p = write(gradient(BufferedImage.TYPE_INT_RGB, 64, 64), "png", "cut.png");
        byte[] all = Files.readAllBytes(p);
        Files.write(p, Arrays.copyOf(all, all.length / 2));
        IOException e = assertThrows(IOException.class, () -> ImageFiles.read(p));
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
    }

    @Test
    void truncatedJpegHeaderNamesTheFile() throws IOException {
        Path p = write(gradient(BufferedImage.TYPE_INT_RGB, 64, 64), "jpg", "cut.jpg");
        byte[] all = Files.readAllBytes(p);
        Files.write(p, Arrays.copyOf(all, 40));
        IOException e = assertThrows(IOException.class, () -> ImageFiles.read(p));
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
    }

    @Test
    void missingFileAndFolderAreReported() {
        Path missing = dir.resolve("nope.png");
        IOException e = assertThrows(IOException.class, () -> ImageFiles.read(missing));
        assertEquals(missing + ": no such image file", e.getMessage());
        IOException f = assertThrows(IOException.class, () -> ImageFiles.read(dir));
        assertTrue(f.getMessage().contains("not a regular file"), f.getMessage());
    }
}
