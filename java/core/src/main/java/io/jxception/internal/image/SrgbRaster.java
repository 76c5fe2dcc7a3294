package io.jxception.internal.image;

import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferInt;
import java.awt.image.DirectColorModel;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.Raster;
import java.awt.image.SinglePixelPackedSampleModel;

/**
 * The decoders' common outputs read in place, without {@code getRGB}'s per-pixel colour-model calls:
 * 8-bit sRGB samples interleaved in one byte array (JPEG's TYPE_3BYTE_BGR, PNG's RGB and RGBA) or
 * packed one pixel per int (TYPE_INT_RGB, TYPE_INT_ARGB, TYPE_INT_BGR). For these getRGB returns the
 * samples unchanged, so reading them directly gives its values (RgbConversionTest). Alpha is ignored,
 * as Pillow's {@code convert("RGB")} drops it. Also a {@link Resampling.RgbRows}, so the bilinear
 * resize reads the decoded raster without a full-size float copy.
 */
abstract sealed class SrgbRaster implements Resampling.RgbRows {
    final int height, width;

    private SrgbRaster(int height, int width) {
        this.height = height;
        this.width = width;
    }

    /** The image's raster when it has one of these layouts, else null. */
    static SrgbRaster of(BufferedImage image) {
        Raster raster = image.getRaster();
        int tx = raster.getSampleModelTranslateX(), ty = raster.getSampleModelTranslateY();   // a sub-image's raster starts inside its parent's
        if (raster.getDataBuffer() instanceof DataBufferByte db && db.getNumBanks() == 1 && raster.getSampleModel() instanceof PixelInterleavedSampleModel sm
                && image.getColorModel() instanceof ComponentColorModel cm && cm.getColorSpace().isCS_sRGB() && !cm.isAlphaPremultiplied()
                && cm.getNumColorComponents() == 3 && sm.getNumBands() >= 3) {
            for (int c = 0; c < 3; c++) if (cm.getComponentSize(c) != 8) return null;
            int pixelStride = sm.getPixelStride(), scanlineStride = sm.getScanlineStride();
            int start = db.getOffset() + (raster.getMinY() - ty) * scanlineStride + (raster.getMinX() - tx) * pixelStride;
            return new Bytes(image.getHeight(), image.getWidth(), db.getData(), start, pixelStride, scanlineStride, sm.getBandOffsets());
        }
        if (raster.getDataBuffer() instanceof DataBufferInt db && db.getNumBanks() == 1 && raster.getSampleModel() instanceof SinglePixelPackedSampleModel sm
                && image.getColorModel() instanceof DirectColorModel cm && cm.getColorSpace().isCS_sRGB() && !cm.isAlphaPremultiplied()) {
            int[] masks = {cm.getRedMask(), cm.getGreenMask(), cm.getBlueMask()};
            int[] shift = new int[3];
            for (int c = 0; c < 3; c++) {
                shift[c] = Integer.numberOfTrailingZeros(masks[c]);
                if (masks[c] >>> shift[c] != 0xff) return null;   // 8 bits per channel
            }
            int scanlineStride = sm.getScanlineStride();
            int start = db.getOffset() + (raster.getMinY() - ty) * scanlineStride + (raster.getMinX() - tx);
            return new Ints(image.getHeight(), image.getWidth(), db.getData(), start, scanlineStride, shift);
        }
        return null;
    }

    @Override public int height() { return height; }
    @Override public int width() { return width; }

    /** Row y at the columns {@code cols}: out[o + 3 i + c] = channel c of pixel (y, cols[i]). */
    abstract void sampleRow(int y, int[] cols, float[] out, int o);

    private static final class Bytes extends SrgbRaster {
        private final byte[] data;
        private final int start, pixelStride, scanlineStride, r, g, b;

        Bytes(int height, int width, byte[] data, int start, int pixelStride, int scanlineStride, int[] bands) {
            super(height, width);
            this.data = data;
            this.start = start;
            this.pixelStride = pixelStride;
            this.scanlineStride = scanlineStride;
            this.r = bands[0];
            this.g = bands[1];
            this.b = bands[2];
        }

        @Override void sampleRow(int y, int[] cols, float[] out, int o) {
            int row = start + y * scanlineStride;
            for (int i = 0; i < cols.length; i++, o += 3) {
                int p = row + cols[i] * pixelStride;
                out[o] = data[p + r] & 0xff;
                out[o + 1] = data[p + g] & 0xff;
                out[o + 2] = data[p + b] & 0xff;
            }
        }

        @Override public void row(int y, int[] out) {
            for (int x = 0, p = start + y * scanlineStride, o = 0; x < width; x++, p += pixelStride, o += 3) {
                out[o] = data[p + r] & 0xff;
                out[o + 1] = data[p + g] & 0xff;
                out[o + 2] = data[p + b] & 0xff;
            }
        }

        @Override public void transposeBlock(int y0, int rows, int[][] cols) {
            for (int k = 0; k < rows; k++) {
                int d = 3 * k;
                for (int x = 0, p = start + (y0 + k) * scanlineStride; x < width; x++, p += pixelStride) {
                    int[] col = cols[x];
                    col[d] = data[p + r] & 0xff;
                    col[d + 1] = data[p + g] & 0xff;
                    col[d + 2] = data[p + b] & 0xff;
                }
            }
        }
    }

    private static final class Ints extends SrgbRaster {
        private final int[] data;
        private final int start, scanlineStride, sr, sg, sb;

        Ints(int height, int width, int[] data, int start, int scanlineStride, int[] shift) {
            super(height, width);
            this.data = data;
            this.start = start;
            this.scanlineStride = scanlineStride;
            this.sr = shift[0];
            this.sg = shift[1];
            this.sb = shift[2];
        }

        @Override void sampleRow(int y, int[] cols, float[] out, int o) {
            int row = start + y * scanlineStride;
            for (int i = 0; i < cols.length; i++, o += 3) {
                int v = data[row + cols[i]];
                out[o] = (v >>> sr) & 0xff;
                out[o + 1] = (v >>> sg) & 0xff;
                out[o + 2] = (v >>> sb) & 0xff;
            }
        }

        @Override public void row(int y, int[] out) {
            for (int x = 0, p = start + y * scanlineStride, o = 0; x < width; x++, o += 3) {
                int v = data[p + x];
                out[o] = (v >>> sr) & 0xff;
                out[o + 1] = (v >>> sg) & 0xff;
                out[o + 2] = (v >>> sb) & 0xff;
            }
        }

        @Override public void transposeBlock(int y0, int rows, int[][] cols) {
            for (int k = 0; k < rows; k++) {
                int d = 3 * k;
                for (int x = 0, p = start + (y0 + k) * scanlineStride; x < width; x++) {
                    int v = data[p + x];
                    int[] col = cols[x];
                    col[d] = (v >>> sr) & 0xff;
                    col[d + 1] = (v >>> sg) & 0xff;
                    col[d + 2] = (v >>> sb) & 0xff;
                }
            }
        }
    }
}
