package io.jxception.image;

import io.jxception.internal.image.ImageFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Truncated images are refused as Pillow (so Keras' load_img) refuses them: ImageIO's JPEG decoder
 * returns a partly grey image with a warning, which must not be classified. The expectations are
 * Pillow 9.4's outcomes on the same cuts, recorded by weights/fixtures/images/make_truncation_fixtures.py.
 */
class ImageTruncationTest {
    static final Path FIXTURES = Path.of("weights/fixtures/images");
    private static final Pattern LINE = Pattern.compile("(\\S+) cut to .* \\((\\d+) of (\\d+) bytes\\): (decodes|refused: .*)");

    @Test
    void everyCutThatPillowRefusesIsRefusedAndTheOthersDecode(@TempDir Path dir) throws IOException {
        List<String> lines = Files.readAllLines(FIXTURES.resolve("pillow_truncation.txt"));
        assertEquals(9, lines.size());
        int refused = 0;
        for (String line : lines) {
            Matcher m = LINE.matcher(line);
            assertTrue(m.matches(), line);
            byte[] all = Files.readAllBytes(FIXTURES.resolve(m.group(1)));
            assertEquals(Integer.parseInt(m.group(3)), all.length, "fixture changed: " + line);
            Path cut = Files.write(dir.resolve("cut-" + m.group(2) + "-" + m.group(1)), Arrays.copyOf(all, Integer.parseInt(m.group(2))));
            if (m.group(4).equals("decodes")) {
                assertDoesNotThrow(() -> ImageFiles.read(cut), line);
            } else {
                refused++;
                IOException e = assertThrows(IOException.class, () -> ImageFiles.read(cut), line);
                assertTrue(e.getMessage().startsWith(cut + ": image file is truncated"), line + " -> " + e.getMessage());
                IOException inMemory = assertThrows(IOException.class, () -> ImageFiles.decode(Files.readAllBytes(cut), "upload.bin"), line);
                assertTrue(inMemory.getMessage().startsWith("upload.bin: image file is truncated"), inMemory.getMessage());
            }
        }
        assertEquals(8, refused);
    }

    /**
     * Found by ImageFuzzTest: a 298-byte GIF whose header claimed 1032×13108 pixels made ImageIO
     * allocate the whole raster (and the conversion three floats per pixel) before the data ran out,
     * slowing decoding to 13 inputs a second. Here a 291-byte PNG (an MNIST digit) claims 9000×9000.
     */
    @Test
    void headerClaimingMorePixelsThanTheBytesCanHoldIsRefusedBeforeDecoding(@TempDir Path dir) throws IOException {
        byte[] png = Files.readAllBytes(Path.of("weights/fixtures/mnist/val/3/0000.png"));
        int side = 9000 + new java.util.Random().nextInt(1000);
        java.nio.ByteBuffer.wrap(png, 16, 8).putInt(side).putInt(side); // IHDR width, height (big-endian)
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(png, 12, 17); // "IHDR" + 13 bytes of data
        java.nio.ByteBuffer.wrap(png, 29, 4).putInt((int) crc.getValue());
        Path bomb = Files.write(dir.resolve("bomb.png"), png);
        Runtime rt = Runtime.getRuntime();
        long before = rt.totalMemory() - rt.freeMemory();
        IOException e = assertThrows(IOException.class, () -> ImageFiles.read(bomb));
        assertTrue(e.getMessage().contains("header claims " + side + "x" + side + " pixels in a file of " + png.length + " bytes"), e.getMessage());
        assertTrue((rt.totalMemory() - rt.freeMemory()) - before < 100L << 20, "refusing took more than 100 MB of heap");
        // a real image's ratio is far below the bound: every fixture and the MNIST digits decode
        for (String name : List.of("scene.jpg", "scene_progressive.jpg", "scene.png")) assertDoesNotThrow(() -> ImageFiles.read(FIXTURES.resolve(name)));
    }

    @Test
    void wholeFixturesDecode() throws IOException {
        for (String name : List.of("scene.jpg", "scene_progressive.jpg", "scene.png")) {
            var im = ImageFiles.read(FIXTURES.resolve(name));
            assertEquals(64, im.height(), name);
            assertEquals(96, im.width(), name);
        }
    }

    @Test
    void folderAndControlCharactersInNamesAreReportedPrintably(@TempDir Path dir) throws IOException {
        Path folder = Files.createDirectory(dir.resolve("photos"));
        IOException e = assertThrows(IOException.class, () -> ImageFiles.read(folder));
        assertEquals(folder + ": is a folder, not an image file", e.getMessage());
        Path evil = Files.write(dir.resolve("a\u001b[2Jb.jpg"), new byte[]{1, 2, 3, 4, 5, 6, 7, 8});
        IOException bad = assertThrows(IOException.class, () -> ImageFiles.read(evil));
        assertFalse(bad.getMessage().contains("\u001b"), bad.getMessage());
        assertTrue(bad.getMessage().contains("a\\u001b[2Jb.jpg"), bad.getMessage());
    }
}
