package io.jxception.train;

import io.jxception.cli.TrainingPlot;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class LogAndPlotTest {
    static final List<EpochRecord> HISTORY = List.of(
            new EpochRecord(1, 37, 0.05, 2.1, 0.25, 1.9, 0.31, 101.5, 5.9, 0.01, 0),
            new EpochRecord(2, 74, 0.047, 1.2, 0.61, 1.1, 0.66, 110.25, 5.4, 0.02, 1),
            new EpochRecord(3, 111, 0.044, 0.6, 0.83, Double.NaN, Double.NaN, 108.0, 5.5, 0.0, 0));

    @Test
    void csvRoundTripsThroughText() {
        String csv = EpochRecord.csv(HISTORY);
        assertTrue(csv.startsWith(EpochRecord.CSV_HEADER + "\n"));
        assertEquals(4, csv.split("\n").length);
        List<EpochRecord> back = EpochRecord.parseCsvTable(csv);
        assertEquals(3, back.size());
        assertEquals(HISTORY.get(1).trainAccuracy(), back.get(1).trainAccuracy(), 1e-6);
        assertEquals(74, back.get(1).step());
        assertTrue(Double.isNaN(back.get(2).valLoss()));
        assertThrows(IllegalArgumentException.class, () -> EpochRecord.parseCsvTable("a,b\n1,2\n"));
    }

    @Test
    void plotIsAPngWithTwoCharts(@TempDir Path dir) throws IOException {
        Path png = dir.resolve("curves.png");
        TrainingPlot.write(HISTORY.subList(0, 2), "test", png);
        BufferedImage im = ImageIO.read(png.toFile());
        assertNotNull(im, "not a readable PNG");
        assertEquals(1280, im.getWidth());
        assertEquals(420, im.getHeight());
        // both halves are drawn on (not blank white)
        for (int half = 0; half < 2; half++) {
            int dark = 0;
            for (int y = 0; y < im.getHeight(); y += 2) {
                for (int x = half * 640; x < half * 640 + 640; x += 2) if ((im.getRGB(x, y) & 0xff) < 128) dark++;
            }
            assertTrue(dark > 200, "chart " + half + " looks empty (" + dark + " dark pixels)");
        }
    }
}
