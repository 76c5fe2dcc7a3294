package io.jxception.image;

import io.jxception.internal.image.InputBatches;
import io.jxception.internal.image.RgbImage;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class KerasPreprocessingTest {
    @Test
    void tfModeMapsByteRangeToMinusOneOne() {
        assertEquals(-1f, KerasPreprocessing.tf(0));
        assertEquals(1f, KerasPreprocessing.tf(255));
        // float32 as NumPy computes it: np.float32(128) / np.float32(127.5) - 1
        assertEquals(0.003921628f, KerasPreprocessing.tf(128));
    }

    @Test
    void batchIsNhwc() {
        RgbImage a = new RgbImage(1, 2, new float[]{0, 51, 255, 127.5f, 0, 0});
        RgbImage b = new RgbImage(1, 2, new float[]{255, 255, 255, 0, 0, 0});
        Tensor t = InputBatches.of(List.of(a, b));
        assertEquals(Shape.of(2, 1, 2, 3), t.shape());
        assertEquals(-0.6f, t.data()[1], 1e-7);
        assertEquals(0f, t.data()[3]);
        assertEquals(1f, t.data()[6]);
        assertEquals(-1f, t.data()[11]);
    }

    @Test
    void batchRefusesMixedSizes() {
        RgbImage a = new RgbImage(1, 2, new float[6]);
        RgbImage b = new RgbImage(2, 1, new float[6]);
        assertThrows(IllegalArgumentException.class, () -> InputBatches.of(List.of(a, b)));
    }

    @Test
    void loadResizesAndPreprocesses(@TempDir Path dir) throws IOException {
        BufferedImage white = new BufferedImage(100, 80, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 80; y++) for (int x = 0; x < 100; x++) white.setRGB(x, y, 0xffffff);
        Path p = dir.resolve("white.png");
        ImageIO.write(white, "png", p.toFile());
        for (Interpolation i : Interpolation.values()) {
            Tensor t = KerasPreprocessing.load(p, 71, 73, i);
            assertEquals(Shape.of(1, 71, 73, 3), t.shape());
            for (float v : t.data()) assertEquals(1f, v);
        }
    }
}
