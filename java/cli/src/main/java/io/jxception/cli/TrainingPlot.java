package io.jxception.cli;

import io.jxception.internal.tensor.AtomicFiles;
import io.jxception.train.EpochRecord;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Loss and accuracy curves per epoch, side by side in one PNG (drawn headless with XChart). */
public final class TrainingPlot {
    /** The file {@code jxception train} writes into its output folder. */
    public static final String FILE_NAME = "curves.png";
    private static final int CHART_WIDTH = 640, CHART_HEIGHT = 420;

    private TrainingPlot() {}

    public static void write(List<EpochRecord> history, String title, Path png) throws IOException {
        if (history.isEmpty()) throw new IllegalArgumentException("no epochs to plot");
        System.setProperty("java.awt.headless", "true");
        double[] epochs = history.stream().mapToDouble(EpochRecord::epoch).toArray();
        XYChart loss = chart(title + ": loss", "cross-entropy");
        loss.addSeries("train", epochs, history.stream().mapToDouble(EpochRecord::trainLoss).toArray());
        XYChart accuracy = chart(title + ": accuracy", "top-1 accuracy");
        accuracy.addSeries("train", epochs, history.stream().mapToDouble(EpochRecord::trainAccuracy).toArray());
        if (history.stream().allMatch(r -> Double.isFinite(r.valLoss()))) {
            loss.addSeries("validation", epochs, history.stream().mapToDouble(EpochRecord::valLoss).toArray());
            accuracy.addSeries("validation", epochs, history.stream().mapToDouble(EpochRecord::valAccuracy).toArray());
        }
        accuracy.getStyler().setYAxisMin(0.0).setYAxisMax(1.0).setLegendPosition(Styler.LegendPosition.InsideSE);

        BufferedImage image = new BufferedImage(2 * CHART_WIDTH, CHART_HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, image.getWidth(), image.getHeight());
            loss.paint(g, CHART_WIDTH, CHART_HEIGHT);
            g.translate(CHART_WIDTH, 0);
            accuracy.paint(g, CHART_WIDTH, CHART_HEIGHT);
        } finally {
            g.dispose();
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        if (!ImageIO.write(image, "png", bytes)) throw new IOException("no PNG encoder available in this Java runtime");
        AtomicFiles.write(png, bytes.toByteArray());
    }

    private static XYChart chart(String title, String yTitle) {
        XYChart c = new XYChartBuilder().width(CHART_WIDTH).height(CHART_HEIGHT).title(title).xAxisTitle("epoch").yAxisTitle(yTitle).build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE).setChartBackgroundColor(Color.WHITE)
                .setPlotBackgroundColor(Color.WHITE);
        return c;
    }
}
