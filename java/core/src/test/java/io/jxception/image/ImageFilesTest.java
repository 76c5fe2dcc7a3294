package io.jxception.image;

import io.jxception.internal.image.ImageFiles;
import io.jxception.internal.image.RgbImage;
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

    /**
     * An 8x6 CMYK JPEG written by Pillow 9.4 ({@code Image.fromarray(rgb).convert("CMYK").save(f, quality=95)},
     * rgb = numpy.random.default_rng(1).integers(0, 256, (6, 8, 3))), and what
     * {@code numpy.asarray(Image.open(f).convert("RGB"))} gives for it.
     */
    private static final String CMYK_JPEG = "/9j/7gAOQWRvYmUAZAAAAAAA/9sAQwACAQEBAQECAQEBAgICAgIEAwICAgIFBAQDBAYFBgYGBQYGBgcJCAYHCQcGBggLCAkKCgoK" +
            "CgYICwwLCgwJCgoK/8AAFAgABgAIBEMRAE0RAFkRAEsRAP/EAB8AAAEFAQEBAQEBAAAAAAAAAAABAgMEBQYHCAkKC//EALUQAAIB" +
            "AwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZH" +
            "SElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV" +
            "1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+v/aAA4EQwBNAFkASwAAPwDy3wD+31qPi/wJr/xX8a/GLxm1z4y1a48I6ja+CfC9p4Wu" +
            "tc167tVcalqd9ZXpE8ipcSW/2lbYbhZWEz2shjaE+V/CX/goRq/xi8IeFvj38YrjUfFdx4Ue5l1m4srFNEvdd0qS4mXTLm9m868N" +
            "3e2E+lXk9sCY3t2SxaO7EqyTVb8Wabq/izwn8UvDmr/B3wxaap4R+JuseH/D8Oh+JpbSz0Tw7pFnYS3trbn7CxeSaw1+z0aXKRx3" +
            "thAyyJbSQRO/7+V//9k=";
    private static final int[] CMYK_AS_PILLOW_RGB = {
            254, 229, 32, 120, 241, 192, 8, 132, 99, 169, 80, 195, 186, 151, 81, 244, 205, 24, 233, 8, 246, 165, 231, 35,
            212, 111, 174, 212, 174, 174, 218, 241, 172, 112, 209, 58, 160, 46, 213, 77, 71, 114, 126, 223, 66, 29, 94, 111,
            35, 108, 237, 67, 50, 81, 226, 212, 203, 63, 203, 68, 74, 68, 195, 104, 43, 247, 210, 164, 3, 44, 179, 137,
            100, 2, 244, 22, 49, 28, 11, 4, 52, 50, 154, 220, 49, 62, 228, 190, 161, 157, 125, 216, 155, 194, 195, 139,
            69, 153, 71, 209, 62, 77, 107, 85, 11, 214, 220, 117, 165, 117, 211, 203, 70, 27, 186, 30, 36, 44, 156, 75,
            49, 13, 221, 32, 10, 111, 24, 117, 8, 129, 26, 248, 129, 141, 83, 32, 97, 178, 30, 97, 165, 105, 51, 102};

    @Test
    void cmykJpegConvertsLikePillow() throws IOException {
        Path p = dir.resolve("cmyk.jpg");
        Files.write(p, java.util.Base64.getDecoder().decode(CMYK_JPEG));
        RgbImage im = ImageFiles.read(p);
        assertEquals(6, im.height());
        assertEquals(8, im.width());
        float[] expected = new float[CMYK_AS_PILLOW_RGB.length];
        for (int i = 0; i < expected.length; i++) expected[i] = CMYK_AS_PILLOW_RGB[i];
        assertArrayEquals(expected, im.pixels());
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
        assertEquals(dir + ": is a folder, not an image file", f.getMessage());
    }
}
