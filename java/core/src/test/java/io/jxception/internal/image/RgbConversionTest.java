package io.jxception.internal.image;

import io.jxception.image.Interpolation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ImageFiles#toRgb}'s direct copies of interleaved 8-bit sRGB bytes and packed sRGB ints give
 * what Java's own per-pixel conversion ({@code BufferedImage.getRGB}) gives, for every layout the
 * decoders produce and for sub-images whose rasters start inside their parent's; layouts the copies
 * do not take (premultiplied alpha, palettes) still convert as before.
 */
class RgbConversionTest {
    private final long seed = new Random().nextLong();
    private final Random rnd = new Random(seed);

    /** What getRGB says, as (h, w, 3) floats: the reference. */
    private static float[] viaGetRgb(BufferedImage image) {
        int h = image.getHeight(), w = image.getWidth();
        float[] out = new float[h * w * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int argb = image.getRGB(x, y), o = (y * w + x) * 3;
                out[o] = (argb >> 16) & 0xff;
                out[o + 1] = (argb >> 8) & 0xff;
                out[o + 2] = argb & 0xff;
            }
        }
        return out;
    }

    /** Random pixels (alpha too) in an image of the given type. */
    private BufferedImage random(int type, int w, int h) {
        BufferedImage image = new BufferedImage(w, h, type);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) image.setRGB(x, y, rnd.nextInt());
        return image;
    }

    /** PNG's layout: interleaved bytes in R, G, B(, A) order (bandOffsets 0, 1, 2(, 3)), not a predefined type. */
    private BufferedImage interleavedRgb(int w, int h, boolean alpha) {
        ColorSpace srgb = ColorSpace.getInstance(ColorSpace.CS_sRGB);
        ComponentColorModel cm = new ComponentColorModel(srgb, alpha, false, alpha ? Transparency.TRANSLUCENT : Transparency.OPAQUE, DataBuffer.TYPE_BYTE);
        int bands = alpha ? 4 : 3;
        int[] offsets = alpha ? new int[]{0, 1, 2, 3} : new int[]{0, 1, 2};
        WritableRaster raster = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, w, h, w * bands, bands, offsets, null);
        byte[] data = new byte[w * h * bands];
        rnd.nextBytes(data);
        raster.setDataElements(0, 0, w, h, data);
        return new BufferedImage(cm, raster, false, null);
    }

    private void assertSameAsGetRgb(BufferedImage image, String what) {
        RgbImage rgb = ImageFiles.toRgb(image);
        assertArrayEquals(viaGetRgb(image), rgb.pixels(), what + " (seed " + seed + ")");
        BufferedImage sub = image.getSubimage(3, 5, image.getWidth() - 7, image.getHeight() - 9);
        assertTrue(sub.getRaster().getSampleModelTranslateX() != 0, "a sub-image's raster is translated");
        assertArrayEquals(viaGetRgb(sub), ImageFiles.toRgb(sub).pixels(), what + ", sub-image (seed " + seed + ")");
    }

    @Test
    void everyDecoderLayoutConvertsAsGetRgbDoes() {
        int[][] sizes = {{37, 23}, {500, 375}, {13, 101}};
        for (int[] s : sizes) {
            String size = s[0] + "x" + s[1];
            assertSameAsGetRgb(random(BufferedImage.TYPE_3BYTE_BGR, s[0], s[1]), "TYPE_3BYTE_BGR " + size);
            assertSameAsGetRgb(random(BufferedImage.TYPE_4BYTE_ABGR, s[0], s[1]), "TYPE_4BYTE_ABGR " + size);
            assertSameAsGetRgb(random(BufferedImage.TYPE_4BYTE_ABGR_PRE, s[0], s[1]), "TYPE_4BYTE_ABGR_PRE (getRGB's path) " + size);
            assertSameAsGetRgb(random(BufferedImage.TYPE_INT_RGB, s[0], s[1]), "TYPE_INT_RGB " + size);
            assertSameAsGetRgb(random(BufferedImage.TYPE_INT_ARGB, s[0], s[1]), "TYPE_INT_ARGB " + size);
            assertSameAsGetRgb(random(BufferedImage.TYPE_INT_BGR, s[0], s[1]), "TYPE_INT_BGR " + size);
            assertSameAsGetRgb(random(BufferedImage.TYPE_INT_ARGB_PRE, s[0], s[1]), "TYPE_INT_ARGB_PRE (getRGB's path) " + size);
            assertSameAsGetRgb(random(BufferedImage.TYPE_BYTE_INDEXED, s[0], s[1]), "TYPE_BYTE_INDEXED (getRGB's path) " + size);
            assertSameAsGetRgb(interleavedRgb(s[0], s[1], false), "interleaved RGB " + size);
            assertSameAsGetRgb(interleavedRgb(s[0], s[1], true), "interleaved RGBA " + size);
        }
    }

    /** Every layout, sampled at Pillow's nearest source pixels: the NEAREST resize of the full conversion, value for value. */
    @Test
    void sampledConversionIsTheNearestResizeOfTheFullConversion() {
        int[] types = {BufferedImage.TYPE_3BYTE_BGR, BufferedImage.TYPE_4BYTE_ABGR, BufferedImage.TYPE_4BYTE_ABGR_PRE, BufferedImage.TYPE_INT_RGB,
                BufferedImage.TYPE_INT_ARGB, BufferedImage.TYPE_INT_BGR, BufferedImage.TYPE_INT_ARGB_PRE, BufferedImage.TYPE_BYTE_INDEXED,
                BufferedImage.TYPE_BYTE_GRAY, BufferedImage.TYPE_USHORT_GRAY};
        int[][] targets = {{299, 299}, {71, 71}, {1, 1}, {40, 600}, {23, 37}};
        for (int type : types) {
            BufferedImage image = random(type, 37 + rnd.nextInt(500), 23 + rnd.nextInt(400));
            BufferedImage sub = image.getSubimage(3, 5, image.getWidth() - 7, image.getHeight() - 9);
            for (BufferedImage im : new BufferedImage[]{image, sub, interleavedRgb(image.getWidth(), image.getHeight(), type % 2 == 0)}) {
                RgbImage full = ImageFiles.toRgb(im);
                for (int[] t : targets) {
                    int[] rows = Resampling.nearestSources(im.getHeight(), t[0]), cols = Resampling.nearestSources(im.getWidth(), t[1]);
                    RgbImage sampled = ImageFiles.toRgb(im, rows, cols);
                    String what = "type " + type + " " + im.getWidth() + "x" + im.getHeight() + " -> " + t[1] + "x" + t[0] + " (seed " + seed + ")";
                    assertEquals(t[0], sampled.height(), what);
                    assertEquals(t[1], sampled.width(), what);
                    assertArrayEquals(Resampling.resize(full, t[0], t[1], Interpolation.NEAREST).pixels(), sampled.pixels(), what);
                }
            }
        }
    }

    /**
     * The bilinear resize reading a decoder's raster in place (SrgbRaster) equals converting the image
     * whole and resizing it, for the layouts SrgbRaster takes, sub-images, and targets that change the
     * width only, the height only, or both.
     */
    @Test
    void bilinearFromTheRasterInPlaceIsTheBilinearResizeOfTheFullConversion() {
        int[] types = {BufferedImage.TYPE_3BYTE_BGR, BufferedImage.TYPE_4BYTE_ABGR, BufferedImage.TYPE_INT_RGB, BufferedImage.TYPE_INT_ARGB,
                BufferedImage.TYPE_INT_BGR};
        for (int type : types) {
            BufferedImage image = random(type, 37 + rnd.nextInt(500), 23 + rnd.nextInt(400));
            BufferedImage sub = image.getSubimage(3, 5, image.getWidth() - 7, image.getHeight() - 9);
            for (BufferedImage im : new BufferedImage[]{image, sub, interleavedRgb(image.getWidth(), image.getHeight(), type % 2 == 0)}) {
                SrgbRaster raster = SrgbRaster.of(im);
                assertTrue(raster != null, "type " + type + " is read in place");
                RgbImage full = ImageFiles.toRgb(im);
                int h = im.getHeight(), w = im.getWidth();
                for (int[] t : new int[][]{{299, 299}, {71, 71}, {h, 299}, {299, w}, {2 * h + 3, w / 2 + 1}, {1, 1}}) {
                    String what = "type " + type + " " + w + "x" + h + " -> " + t[1] + "x" + t[0] + " (seed " + seed + ")";
                    assertArrayEquals(Resampling.resize(full, t[0], t[1], Interpolation.BILINEAR).pixels(), Resampling.bilinear(raster, t[0], t[1]).pixels(), what);
                }
            }
        }
        assertTrue(SrgbRaster.of(random(BufferedImage.TYPE_4BYTE_ABGR_PRE, 10, 10)) == null, "premultiplied alpha: getRGB's path");
        assertTrue(SrgbRaster.of(random(BufferedImage.TYPE_BYTE_INDEXED, 10, 10)) == null, "palette: getRGB's path");
        assertTrue(SrgbRaster.of(random(BufferedImage.TYPE_BYTE_GRAY, 10, 10)) == null, "gray: replicated, not read as RGB");
    }

    /** Files read straight to a size (both interpolations, JPEG, PNG, gray PNG) equal reading them whole and resizing. */
    @Test
    void readingToASizeEqualsReadingThenResizing(@TempDir Path dir) throws IOException {
        int i = 0;
        for (int type : new int[]{BufferedImage.TYPE_INT_RGB, BufferedImage.TYPE_INT_ARGB, BufferedImage.TYPE_BYTE_GRAY, BufferedImage.TYPE_BYTE_INDEXED}) {
            for (String format : new String[]{"jpg", "png"}) {
                if (format.equals("jpg") && type != BufferedImage.TYPE_INT_RGB && type != BufferedImage.TYPE_BYTE_GRAY) continue;
                BufferedImage source = random(type, 120 + rnd.nextInt(400), 90 + rnd.nextInt(300));
                Path file = dir.resolve("im" + i++ + "." + format);
                assertTrue(ImageIO.write(source, format, file.toFile()), format);
                byte[] bytes = Files.readAllBytes(file);
                RgbImage whole = ImageFiles.read(file);
                assertEquals(source.getWidth(), whole.width());
                for (Interpolation interpolation : Interpolation.values()) {
                    for (int[] t : new int[][]{{299, 299}, {71, 71}, {whole.height(), whole.width()}, {whole.height() * 2 + 1, 5}}) {
                        String what = format + " type " + type + " " + interpolation + " -> " + t[1] + "x" + t[0] + " (seed " + seed + ")";
                        float[] expected = whole.resize(t[0], t[1], interpolation).pixels();
                        assertArrayEquals(expected, ImageFiles.read(file, t[0], t[1], interpolation).pixels(), what);
                        assertArrayEquals(expected, ImageFiles.decode(bytes, file.toString(), t[0], t[1], interpolation).pixels(), what + ", from bytes");
                    }
                }
            }
        }
        Path file = dir.resolve("im0.jpg");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageFiles.read(file, 0, 299, Interpolation.NEAREST));
        assertTrue(e.getMessage().contains("0x299"), e.getMessage());
        IOException missing = assertThrows(IOException.class, () -> ImageFiles.read(dir.resolve("none.jpg"), 299, 299, Interpolation.NEAREST));
        assertTrue(missing.getMessage().contains("none.jpg: no such image file"), missing.getMessage());
    }

    @Test
    void decodedJpegAndPngFilesConvertAsGetRgbDoes() throws IOException {
        for (String format : new String[]{"jpg", "png"}) {
            for (int type : new int[]{BufferedImage.TYPE_INT_RGB, BufferedImage.TYPE_INT_ARGB}) {
                if (format.equals("jpg") && type == BufferedImage.TYPE_INT_ARGB) continue;   // ImageIO writes no alpha JPEG
                BufferedImage source = random(type, 211, 97);
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                assertTrue(ImageIO.write(source, format, bytes), format);
                BufferedImage decoded = ImageIO.read(new java.io.ByteArrayInputStream(bytes.toByteArray()));
                RgbImage ours = ImageFiles.decode(bytes.toByteArray(), "test." + format);
                assertArrayEquals(viaGetRgb(decoded), ours.pixels(), format + " of type " + type + " (seed " + seed + ")");
            }
        }
    }
}
