package io.jxception.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jxception.image.Interpolation;
import io.jxception.internal.image.ImageFiles;
import io.jxception.internal.image.RgbImage;

import java.io.IOException;

/**
 * The image loader (ImageIO decoders behind {@link ImageFiles}) on arbitrary bytes: an image of at
 * least 1×1 whose pixels are 0..255, resized as classify does, or an IOException with a printable
 * message naming the input. Images over {@link #MAX_PIXELS} are refused by the loader's own size
 * check (with the bound lowered from 100 Mpixel): with the full bound, mutations of a few hundred
 * bytes kept decoding images of up to 4 Mpixel and the target ran at ~13 inputs a second.
 */
class ImageFuzzTest {
    static final long MAX_PIXELS = 1 << 16;

    @FuzzTest(maxDuration = "5m")
    void decodesOrRefuses(byte[] data) {
        try {
            RgbImage im = ImageFiles.decode(data, "fuzz-input", MAX_PIXELS);
            if ((long) im.height() * im.width() > MAX_PIXELS) throw new AssertionError("decoded " + im.height() + "x" + im.width() + " over the bound");
            if (im.height() < 1 || im.width() < 1) throw new AssertionError("empty image " + im.height() + "x" + im.width());
            for (float v : im.pixels()) if (!(v >= 0 && v <= 255)) throw new AssertionError("pixel value " + v);
            im.resize(71, 71, Interpolation.BILINEAR); // the loader's next step
        } catch (IOException e) {
            FuzzFiles.requirePrintableMessage(e);
            if (!e.getMessage().startsWith("fuzz-input: ")) throw new AssertionError("message does not name the input: " + e.getMessage(), e);
        }
    }
}
