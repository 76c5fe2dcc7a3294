package io.jxception.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jxception.image.Interpolation;
import io.jxception.internal.image.ImageFiles;
import io.jxception.internal.image.RgbImage;

import java.io.IOException;

/**
 * The image loader (ImageIO decoders behind {@link ImageFiles}) on arbitrary bytes: an image of at
 * least 1×1 whose pixels are 0..255, resized as classify does (up to 65,536 pixels), or an IOException with a printable
 * message naming the input.
 */
class ImageFuzzTest {
    @FuzzTest(maxDuration = "5m")
    void decodesOrRefuses(byte[] data) {
        try {
            RgbImage im = ImageFiles.decode(data, "fuzz-input");
            if (im.height() < 1 || im.width() < 1) throw new AssertionError("empty image " + im.height() + "x" + im.width());
            for (float v : im.pixels()) if (!(v >= 0 && v <= 255)) throw new AssertionError("pixel value " + v);
            // resizing is the loader's next step; kept to small images, where it is cheap (a fuzzer's time goes to decoding)
            if ((long) im.height() * im.width() <= 1 << 16) im.resize(71, 71, Interpolation.BILINEAR);
        } catch (IOException e) {
            FuzzFiles.requirePrintableMessage(e);
            if (!e.getMessage().startsWith("fuzz-input: ")) throw new AssertionError("message does not name the input: " + e.getMessage(), e);
        }
    }
}
