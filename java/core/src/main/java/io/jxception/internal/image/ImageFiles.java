package io.jxception.internal.image;

import io.jxception.internal.text.Printable;

import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.FileImageInputStream;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import java.io.ByteArrayInputStream;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferInt;
import java.awt.image.DirectColorModel;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.SinglePixelPackedSampleModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import io.jxception.internal.text.Printable;

import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * Decodes image files (JPEG and PNG; also GIF, BMP and TIFF, which ImageIO reads) into 8-bit RGB,
 * converting as Pillow's {@code convert("RGB")} does for Keras' {@code load_img}: grayscale is
 * replicated to three channels, alpha is dropped (not composited), CMYK uses Pillow's formula
 * without colour management. One deliberate difference: 16-bit grayscale is scaled to 8 bits,
 * where Pillow clips it at 255 (which turns most such images white). Every failure is an
 * {@link IOException} whose message starts with the file name.
 */
public final class ImageFiles {
    /** Larger images are refused before decoding (a decompression bomb would otherwise exhaust the heap). */
    public static final long MAX_PIXELS = 100_000_000L;
    /**
     * No real encoder packs more pixels into a byte than this (a flat 1-bit PNG at deflate's limit
     * holds ~8,300; Pillow's flat JPEG 64-170, PNG 284-1,761): a header that claims more describes a
     * decompression bomb or is corrupt, and the decoder would allocate its raster before finding out.
     */
    public static final long MAX_PIXELS_PER_BYTE = 16_384;
    /** Images up to this size are decoded whatever the file's size (a tiny flat GIF may be 1000×1000). */
    static final long PIXELS_ALWAYS_ALLOWED = 1L << 20;

    private ImageFiles() {}

    /** The image in {@code file}, as 8-bit RGB. */
    public static RgbImage read(Path file) throws IOException {
        String shown = Printable.of(file.toString());
        if (!Files.exists(file)) throw new IOException(shown + ": no such image file");
        if (Files.isDirectory(file)) throw new IOException(shown + ": is a folder, not an image file");
        if (!Files.isRegularFile(file)) throw new IOException(shown + ": not a regular file (a device, fifo or socket), not an image file");
        // a FileImageInputStream reads the file directly: no cache file, and no JVM-wide ImageIO.setUseCache
        try (ImageInputStream in = new FileImageInputStream(file.toFile())) {
            return decode(in, file.toString(), Files.size(file), MAX_PIXELS);
        }
    }

    /** The image encoded in {@code data} (a file's bytes), as 8-bit RGB; {@code name} starts every error message. */
    public static RgbImage decode(byte[] data, String name) throws IOException {
        return decode(data, name, MAX_PIXELS);
    }

    /**
     * {@link #decode(byte[], String)} refusing images over {@code maxPixels} (at most {@link #MAX_PIXELS})
     * the same way: the fuzz target decodes small images only, so that its executions go to the
     * parsers, not to filling multi-megapixel rasters.
     */
    public static RgbImage decode(byte[] data, String name, long maxPixels) throws IOException {
        if (maxPixels < 1 || maxPixels > MAX_PIXELS) throw new IllegalArgumentException("maxPixels must be in [1, " + MAX_PIXELS + "], got " + maxPixels);
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(data))) {
            return decode(in, name, data.length, maxPixels);
        }
    }

    private static RgbImage decode(ImageInputStream in, String name, long bytes, long maxPixels) throws IOException {
        String file = Printable.of(name); // a file name may hold terminal escapes: every message shows it printable
        Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
        if (!readers.hasNext()) throw new IOException(file + ": not an image (expected JPEG or PNG; no decoder recognises the content)");
        ImageReader reader = readers.next();
        String format = reader.getFormatName().toUpperCase(java.util.Locale.ROOT);
        try {
            reader.setInput(in, true, true);
            long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
            if (pixels > maxPixels) {
                throw new IOException(file + ": " + reader.getWidth(0) + "x" + reader.getHeight(0) + " image is larger than " + maxPixels + " pixels; shrink it first");
            }
            if (pixels > PIXELS_ALWAYS_ALLOWED && pixels > bytes * MAX_PIXELS_PER_BYTE) {
                throw new IOException(file + ": its " + format + " header claims " + reader.getWidth(0) + "x" + reader.getHeight(0) + " pixels in a file of "
                        + bytes + " bytes, more than " + MAX_PIXELS_PER_BYTE + " pixels per byte, which no image compresses to:"
                        + " the file is corrupt (or a decompression bomb)");
            }
            List<String> warnings = new ArrayList<>();
            reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
            BufferedImage image = reader.read(0);
            for (String w : warnings) {
                if (isTruncation(w)) {
                    throw new IOException(file + ": image file is truncated: the " + format + " data ends before the image does ("
                            + Printable.of(w) + "); Keras (Pillow) refuses it too. Fetch or copy the file again");
                }
            }
            return toRgb(image);
        } catch (IIOException e) {
            if (endsEarly(e)) throw truncated(file, format, e);
            throw new IOException(file + ": cannot decode " + format + " image: " + explain(e), e);
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(file)) throw e;
            if (endsEarly(e)) throw truncated(file, format, e);
            throw new IOException(file + ": cannot read " + format + " image: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            // ImageIO decoders signal some corrupt data with unchecked exceptions
            throw new IOException(file + ": corrupt " + format + " image (" + e + ")", e);
        } finally {
            reader.dispose();
        }
    }

    /**
     * ImageIO's JPEG decoder fills a truncated image with grey and only warns ("Truncated File -
     * Missing EOI marker", "premature end of data segment"), where Pillow, and so Keras' load_img,
     * raises "image file is truncated": such a warning is a refusal here.
     */
    static boolean isTruncation(String warning) {
        String w = String.valueOf(warning).toLowerCase(Locale.ROOT);
        return w.contains("truncated") || w.contains("premature end") || w.contains("missing eoi");
    }

    /** Whether the decoder ran out of data (an EOFException anywhere in the causes): PNG, GIF, BMP, TIFF. */
    private static boolean endsEarly(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) if (t instanceof EOFException) return true;
        return e.getCause() != null && String.valueOf(e.getCause().getMessage()).contains("Unexpected end of ZLIB input stream");
    }

    private static IOException truncated(String file, String format, Exception e) {
        return new IOException(file + ": image file is truncated: the " + format + " data ends before the image does; Keras (Pillow) refuses it too."
                + " Fetch or copy the file again", e);
    }

    private static String explain(IIOException e) {
        String m = String.valueOf(e.getMessage());
        if (m.contains("Unsupported Image Type")) return m + " (probably a CMYK or YCCK JPEG: convert it to RGB first)";
        return m;
    }

    /** 8-bit RGB of any decoded image; grayscale is scaled from its bit depth, alpha dropped, CMYK as Pillow converts it. */
    static RgbImage toRgb(BufferedImage image) {
        int h = image.getHeight(), w = image.getWidth();
        float[] out = new float[h * w * 3];
        ColorModel cm = image.getColorModel();
        int space = cm instanceof IndexColorModel ? ColorSpace.TYPE_RGB : cm.getColorSpace().getType();
        if (space == ColorSpace.TYPE_CMYK && image.getRaster().getNumBands() >= 4) {
            // Pillow's cmyk2rgb, without colour management: r = (255 − k) − c·(255 − k)/255 (ImageIO has
            // already undone the Adobe inversion, as Pillow's "CMYK;I" raw mode does)
            Raster raster = image.getRaster();
            int[] px = new int[raster.getNumBands()];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    raster.getPixel(x, y, px);
                    int notK = 255 - px[3], o = (y * w + x) * 3;
                    for (int c = 0; c < 3; c++) out[o + c] = Math.max(0, Math.min(255, notK - mulDiv255(px[c], notK)));
                }
            }
        } else if (space == ColorSpace.TYPE_GRAY) {
            // getRGB would map linear gray to sRGB and brighten it; Pillow replicates the samples as they are
            Raster raster = image.getRaster();
            double max = (1L << cm.getComponentSize(0)) - 1;
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                raster.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    float v = (float) Math.rint(row[x] * 255.0 / max);
                    int o = (y * w + x) * 3;
                    out[o] = v;
                    out[o + 1] = v;
                    out[o + 2] = v;
                }
            }
        } else if (!copyInterleavedSrgbBytes(image, out) && !copyPackedSrgbInts(image, out)) {
            // anything else (palette, 16-bit, other colour spaces, premultiplied alpha): Java's own conversion to sRGB
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                image.getRGB(0, y, w, 1, row, 0, w);
                for (int x = 0; x < w; x++) {
                    int argb = row[x], o = (y * w + x) * 3;
                    out[o] = (argb >> 16) & 0xff;
                    out[o + 1] = (argb >> 8) & 0xff;
                    out[o + 2] = argb & 0xff;
                }
            }
        }
        return new RgbImage(h, w, out);
    }

    /**
     * The common decoder output (JPEG's TYPE_3BYTE_BGR, PNG's interleaved RGB and RGBA): 8-bit sRGB
     * samples interleaved in one byte array, copied as they are into {@code out} (h, w, 3), which is
     * what getRGB returns for them without its per-pixel colour-model calls (it took longer than the
     * JPEG decode itself). Returns false, writing nothing, for any other layout.
     */
    private static boolean copyInterleavedSrgbBytes(BufferedImage image, float[] out) {
        Raster raster = image.getRaster();
        if (!(raster.getDataBuffer() instanceof DataBufferByte db) || db.getNumBanks() != 1) return false;
        if (!(raster.getSampleModel() instanceof PixelInterleavedSampleModel sm)) return false;
        if (!(image.getColorModel() instanceof ComponentColorModel cm) || !cm.getColorSpace().isCS_sRGB() || cm.isAlphaPremultiplied()
                || cm.getNumColorComponents() != 3 || sm.getNumBands() < 3) return false;
        for (int c = 0; c < 3; c++) if (cm.getComponentSize(c) != 8) return false;
        int h = image.getHeight(), w = image.getWidth();
        int tx = raster.getSampleModelTranslateX(), ty = raster.getSampleModelTranslateY();   // a sub-image's raster starts inside its parent's
        int pixelStride = sm.getPixelStride(), scanlineStride = sm.getScanlineStride();
        int[] band = sm.getBandOffsets();
        byte[] data = db.getData();
        int start = db.getOffset() + (raster.getMinY() - ty) * scanlineStride + (raster.getMinX() - tx) * pixelStride;
        int r = band[0], g = band[1], b = band[2];
        for (int y = 0; y < h; y++) {
            int in = start + y * scanlineStride, o = y * w * 3;
            for (int x = 0; x < w; x++, in += pixelStride, o += 3) {
                out[o] = data[in + r] & 0xff;
                out[o + 1] = data[in + g] & 0xff;
                out[o + 2] = data[in + b] & 0xff;
            }
        }
        return true;
    }

    /** As {@link #copyInterleavedSrgbBytes} for 8-bit sRGB packed one pixel per int (TYPE_INT_RGB, TYPE_INT_ARGB, TYPE_INT_BGR). */
    private static boolean copyPackedSrgbInts(BufferedImage image, float[] out) {
        Raster raster = image.getRaster();
        if (!(raster.getDataBuffer() instanceof DataBufferInt db) || db.getNumBanks() != 1) return false;
        if (!(raster.getSampleModel() instanceof SinglePixelPackedSampleModel sm)) return false;
        if (!(image.getColorModel() instanceof DirectColorModel cm) || !cm.getColorSpace().isCS_sRGB() || cm.isAlphaPremultiplied()) return false;
        int[] shift = new int[3];
        int[] masks = {cm.getRedMask(), cm.getGreenMask(), cm.getBlueMask()};
        for (int c = 0; c < 3; c++) {
            shift[c] = Integer.numberOfTrailingZeros(masks[c]);
            if (masks[c] >>> shift[c] != 0xff) return false;   // 8 bits per channel
        }
        int h = image.getHeight(), w = image.getWidth();
        int tx = raster.getSampleModelTranslateX(), ty = raster.getSampleModelTranslateY();
        int scanlineStride = sm.getScanlineStride();
        int[] data = db.getData();
        int start = db.getOffset() + (raster.getMinY() - ty) * scanlineStride + (raster.getMinX() - tx);
        for (int y = 0; y < h; y++) {
            int in = start + y * scanlineStride, o = y * w * 3;
            for (int x = 0; x < w; x++, o += 3) {
                int p = data[in + x];
                out[o] = (p >>> shift[0]) & 0xff;
                out[o + 1] = (p >>> shift[1]) & 0xff;
                out[o + 2] = (p >>> shift[2]) & 0xff;
            }
        }
        return true;
    }

    /** round(a·b/255) for bytes, exactly as Pillow's MULDIV255 computes it. */
    private static int mulDiv255(int a, int b) {
        int t = a * b + 128;
        return ((t >> 8) + t) >> 8;
    }
}
