package io.jxception.internal.image;

import org.junit.jupiter.api.Test;

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
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
