package io.jxception.internal.image;

import io.jxception.image.Interpolation;
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
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;

import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

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
        return readFile(file, null);
    }

    /**
     * {@code read(file).resize(height, width, interpolation)}, value for value, without the full-size
     * copy where it can: NEAREST samples the decoded raster at the output's source pixels directly
     * (for a 500x375 JPEG to 299x299 that skips converting 187,500 pixels to fill 89,401).
     */
    public static RgbImage read(Path file, int height, int width, Interpolation interpolation) throws IOException {
        return readFile(file, new Target(height, width, interpolation));
    }

    private static RgbImage readFile(Path file, Target target) throws IOException {
        String shown = Printable.of(file.toString());
        if (!Files.exists(file)) throw new IOException(shown + ": no such image file");
        if (Files.isDirectory(file)) throw new IOException(shown + ": is a folder, not an image file");
        if (!Files.isRegularFile(file)) throw new IOException(shown + ": not a regular file (a device, fifo or socket), not an image file");
        // a FileImageInputStream reads the file directly: no cache file, and no JVM-wide ImageIO.setUseCache
        try (ImageInputStream in = new FileImageInputStream(file.toFile())) {
            return decode(in, file.toString(), Files.size(file), MAX_PIXELS, target);
        }
    }

    /** {@code decode(data, name).resize(height, width, interpolation)}, value for value, as {@link #read(Path, int, int, Interpolation)} computes it. */
    public static RgbImage decode(byte[] data, String name, int height, int width, Interpolation interpolation) throws IOException {
        return decodeBytes(data, name, MAX_PIXELS, new Target(height, width, interpolation));
    }

    /** The size and resampling an image is decoded to; null in {@link #decode(ImageInputStream, String, long, long, Target)} for the decoded size. */
    private record Target(int height, int width, Interpolation interpolation) {
        Target {
            if (height < 1 || width < 1) throw new IllegalArgumentException("image size must be at least 1x1, got " + height + "x" + width);
            Objects.requireNonNull(interpolation, "interpolation");
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
        return decodeBytes(data, name, maxPixels, null);
    }

    private static RgbImage decodeBytes(byte[] data, String name, long maxPixels, Target target) throws IOException {
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(data))) {
            return decode(in, name, data.length, maxPixels, target);
        }
    }

    private static RgbImage decode(ImageInputStream in, String name, long bytes, long maxPixels, Target target) throws IOException {
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
            return convert(image, target);
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

    /** The decoded image as 8-bit RGB at the target's size (the decoded size when {@code target} is null). */
    private static RgbImage convert(BufferedImage image, Target target) {
        int h = image.getHeight(), w = image.getWidth();
        if (target == null || target.height() == h && target.width() == w) return toRgb(image);
        if (target.interpolation() == Interpolation.NEAREST) {
            return toRgb(image, Resampling.nearestSources(h, target.height()), Resampling.nearestSources(w, target.width()));
        }
        // BILINEAR: the common layouts are read in place by the resize, the others converted whole first
        SrgbRaster srgb = SrgbRaster.of(image);
        return srgb != null ? Resampling.bilinear(srgb, target.height(), target.width()) : toRgb(image).resize(target.height(), target.width(), Interpolation.BILINEAR);
    }

    /** 8-bit RGB of any decoded image; grayscale is scaled from its bit depth, alpha dropped, CMYK as Pillow converts it. */
    static RgbImage toRgb(BufferedImage image) {
        return toRgb(image, identity(image.getHeight()), identity(image.getWidth()));
    }

    private static int[] identity(int n) {
        int[] index = new int[n];
        for (int i = 0; i < n; i++) index[i] = i;
        return index;
    }

    /**
     * {@link #toRgb(BufferedImage)} at the pixels (rows[y], cols[x]) only: (rows.length, cols.length, 3).
     * With Pillow's nearest source indices that is the NEAREST resize of the full conversion, value for
     * value (each output pixel is one source pixel converted the same way), reading only the rows and
     * columns the output samples.
     */
    static RgbImage toRgb(BufferedImage image, int[] rows, int[] cols) {
        int h = rows.length, w = cols.length, srcW = image.getWidth();
        float[] out = new float[h * w * 3];
        ColorModel cm = image.getColorModel();
        int space = cm instanceof IndexColorModel ? ColorSpace.TYPE_RGB : cm.getColorSpace().getType();
        SrgbRaster srgb = SrgbRaster.of(image);
        if (space == ColorSpace.TYPE_CMYK && image.getRaster().getNumBands() >= 4) {
            // Pillow's cmyk2rgb, without colour management: r = (255 − k) − c·(255 − k)/255 (ImageIO has
            // already undone the Adobe inversion, as Pillow's "CMYK;I" raw mode does)
            Raster raster = image.getRaster();
            int[] px = new int[raster.getNumBands()];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    raster.getPixel(cols[x], rows[y], px);
                    int notK = 255 - px[3], o = (y * w + x) * 3;
                    for (int c = 0; c < 3; c++) out[o + c] = Math.max(0, Math.min(255, notK - mulDiv255(px[c], notK)));
                }
            }
        } else if (space == ColorSpace.TYPE_GRAY) {
            // getRGB would map linear gray to sRGB and brighten it; Pillow replicates the samples as they are
            Raster raster = image.getRaster();
            double max = (1L << cm.getComponentSize(0)) - 1;
            int[] row = new int[srcW];
            for (int y = 0; y < h; y++) {
                raster.getSamples(0, rows[y], srcW, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    float v = (float) Math.rint(row[cols[x]] * 255.0 / max);
                    int o = (y * w + x) * 3;
                    out[o] = v;
                    out[o + 1] = v;
                    out[o + 2] = v;
                }
            }
        } else if (srgb != null) {
            // the common decoder outputs (interleaved 8-bit sRGB bytes, packed sRGB ints) read in place: what getRGB returns for
            // them without its per-pixel colour-model calls (they took longer than the JPEG decode itself)
            for (int y = 0; y < h; y++) srgb.sampleRow(rows[y], cols, out, y * w * 3);
        } else {
            // anything else (palette, 16-bit, other colour spaces, premultiplied alpha): Java's own conversion to sRGB
            int[] row = new int[srcW];
            for (int y = 0; y < h; y++) {
                image.getRGB(0, rows[y], srcW, 1, row, 0, srcW);
                for (int x = 0; x < w; x++) {
                    int argb = row[cols[x]], o = (y * w + x) * 3;
                    out[o] = (argb >> 16) & 0xff;
                    out[o + 1] = (argb >> 8) & 0xff;
                    out[o + 2] = argb & 0xff;
                }
            }
        }
        return new RgbImage(h, w, out);
    }

    /** round(a·b/255) for bytes, exactly as Pillow's MULDIV255 computes it. */
    private static int mulDiv255(int a, int b) {
        int t = a * b + 128;
        return ((t >> 8) + t) >> 8;
    }
}
