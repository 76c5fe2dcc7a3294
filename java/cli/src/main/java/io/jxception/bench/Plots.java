package io.jxception.bench;

import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * PNG charts of a report (XChart, headless):
 * <ul>
 * <li>{@code roofline-<backend>-<precision>.png}: one point per timed launch (x FLOP/byte, y
 *     achieved GFLOP/s, log-log), colour by stage, marker by batch, with the two measured
 *     ceilings; maxpool_add launches count 0 FLOPs and have no point;</li>
 * <li>{@code layers-<backend>-<precision>-b<batch>.png}: median time of every launch, coloured by stage;</li>
 * <li>{@code throughput.png}: images/s against batch size, one line per backend × precision and per peer;</li>
 * <li>{@code gemms-<backend>-<precision>-b<batch>.png}: every launch with a pointwise GEMM, our fused
 *     launch's median time beside cuBLAS's for its GEMM alone (where a cuBLAS peer ran).</li>
 * </ul>
 */
public final class Plots {
    static {
        System.setProperty("java.awt.headless", "true");
    }

    private static final Map<Stage, Color> STAGE_COLORS = Map.of(
            Stage.ENTRY, new Color(0x1f77b4), Stage.MIDDLE, new Color(0xff7f0e), Stage.EXIT, new Color(0x2ca02c));
    private static final Marker[] BATCH_MARKERS = {SeriesMarkers.CIRCLE, SeriesMarkers.DIAMOND, SeriesMarkers.SQUARE,
            SeriesMarkers.TRIANGLE_UP, SeriesMarkers.CROSS, SeriesMarkers.TRIANGLE_DOWN};

    private Plots() {}

    /** Writes every chart the report has data for into {@code dir} (created); returns the files. */
    public static List<Path> write(BenchReport report, Path dir) throws IOException {
        Files.createDirectories(dir);
        List<Path> files = new ArrayList<>();
        Map<String, List<LayerResult>> byConfig = report.layers().stream().filter(LayerResult::isTimed)
                .collect(Collectors.groupingBy(r -> r.backend() + "-" + BenchSuite.label(r.precision()), LinkedHashMap::new, Collectors.toList()));
        for (Map.Entry<String, List<LayerResult>> e : byConfig.entrySet()) {
            if (e.getValue().get(0).peaks() != null) {
                files.add(save(roofline(e.getValue()), dir.resolve("roofline-" + fileName(e.getKey()) + ".png")));
            }
            Map<Integer, List<LayerResult>> byBatch = e.getValue().stream()
                    .collect(Collectors.groupingBy(LayerResult::batch, LinkedHashMap::new, Collectors.toList()));
            for (Map.Entry<Integer, List<LayerResult>> b : byBatch.entrySet()) {
                files.add(save(layerTimes(b.getValue()), dir.resolve("layers-" + fileName(e.getKey()) + "-b" + b.getKey() + ".png")));
                List<LayerResult> withGemm = b.getValue().stream().filter(l -> GemmPeerResult.of(report.gemmPeers(), l).isPresent()).toList();
                if (!withGemm.isEmpty()) {
                    files.add(save(gemms(withGemm, report.gemmPeers()), dir.resolve("gemms-" + fileName(e.getKey()) + "-b" + b.getKey() + ".png")));
                }
            }
        }
        if (!report.throughput().isEmpty()) files.add(save(throughput(report), dir.resolve("throughput.png")));
        return files;
    }

    static XYChart roofline(List<LayerResult> rows) {
        LayerResult first = rows.get(0);
        Peaks peaks = first.peaks();
        XYChart chart = new XYChartBuilder().width(1100).height(750)
                .title("Roofline: " + first.backend() + " " + BenchSuite.label(first.precision()) + ", " + first.size() + "x" + first.size()
                        + " (maxpool_add: 0 FLOP, not shown)")
                .xAxisTitle("arithmetic intensity (FLOP / minimum byte)").yAxisTitle("achieved GFLOP/s").build();
        chart.getStyler().setXAxisLogarithmic(true).setYAxisLogarithmic(true).setLegendPosition(Styler.LegendPosition.InsideSE)
                .setChartBackgroundColor(Color.WHITE).setMarkerSize(9);
        List<LayerResult> points = rows.stream().filter(r -> r.cost().flops() > 0).toList();
        double xMin = points.stream().mapToDouble(r -> r.cost().intensity()).min().orElse(1) / 2;
        double xMax = points.stream().mapToDouble(r -> r.cost().intensity()).max().orElse(100) * 2;
        double yMin = points.stream().mapToDouble(LayerResult::gflops).min().orElse(1) / 2;
        double peak = peaks.flopsPerSecond() / 1e9, bandwidth = peaks.bytesPerSecond() / 1e9, ridge = peaks.ridgeIntensity();
        xMin = Math.min(xMin, ridge / 4);
        xMax = Math.max(xMax, ridge * 4);
        yMin = Math.min(yMin, bandwidth * xMin);
        XYSeries ceiling = chart.addSeries(String.format(Locale.ROOT, "ceilings: %.1f GFLOP/s, %.1f GB/s (measured, our own kernels)", peak, bandwidth),
                new double[]{xMin, ridge, xMax}, new double[]{bandwidth * xMin, peak, peak});
        ceiling.setMarker(SeriesMarkers.NONE).setLineColor(Color.BLACK).setLineStyle(SeriesLines.SOLID);
        chart.getStyler().setYAxisMin(yMin).setYAxisMax(peak * 2).setXAxisMin(xMin).setXAxisMax(xMax);
        labelLogTicks(chart, xMin, xMax, yMin, peak * 2);
        List<Integer> batches = points.stream().map(LayerResult::batch).distinct().sorted().toList();
        for (int bi = 0; bi < batches.size(); bi++) {
            for (Stage s : Stage.values()) {
                int batch = batches.get(bi);
                List<LayerResult> sel = points.stream().filter(r -> r.batch() == batch && r.stage() == s).toList();
                if (sel.isEmpty()) continue;
                XYSeries series = chart.addSeries(s.label() + ", batch " + batch,
                        sel.stream().mapToDouble(r -> r.cost().intensity()).toArray(), sel.stream().mapToDouble(LayerResult::gflops).toArray());
                series.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter).setMarker(BATCH_MARKERS[bi % BATCH_MARKERS.length])
                        .setMarkerColor(STAGE_COLORS.get(s));
            }
        }
        chart.addAnnotation(new AnnotationText(String.format(Locale.ROOT, "ridge %.1f FLOP/B", ridge), ridge, peak * 1.25, false));
        return chart;
    }

    static CategoryChart layerTimes(List<LayerResult> rows) {
        LayerResult first = rows.get(0);
        double total = rows.stream().mapToDouble(r -> r.time().median()).sum() * 1e3;
        double floor = rows.stream().mapToDouble(LayerResult::floorSeconds).sum() * 1e3;
        CategoryChart chart = new CategoryChartBuilder().width(1500).height(700)
                .title(String.format(Locale.ROOT, "Per-launch median time: %s %s, batch %d, %dx%d (sum %.2f ms, floor %.2f ms)",
                        first.backend(), BenchSuite.label(first.precision()), first.batch(), first.size(), first.size(), total, floor))
                .xAxisTitle("fused launch (graph order)").yAxisTitle("median time (ms)").build();
        chart.getStyler().setStacked(true).setAvailableSpaceFill(0.8);
        chart.getStyler().setXAxisLabelRotation(90).setLegendPosition(Styler.LegendPosition.InsideNE).setChartBackgroundColor(Color.WHITE);
        List<String> names = rows.stream().map(LayerResult::node).toList();
        for (Stage s : Stage.values()) {
            List<Double> ms = rows.stream().map(r -> r.stage() == s ? r.time().median() * 1e3 : 0.0).toList();
            double stageMs = ms.stream().mapToDouble(Double::doubleValue).sum();
            chart.addSeries(String.format(Locale.ROOT, "%s (%.2f ms)", s.label(), stageMs), names, ms).setFillColor(STAGE_COLORS.get(s));
        }
        return chart;
    }

    /** Launches of one configuration that have a cuBLAS peer: ours (whole fused launch) and cuBLAS (GEMM alone), side by side. */
    static CategoryChart gemms(List<LayerResult> rows, List<GemmPeerResult> peers) {
        LayerResult first = rows.get(0);
        List<Double> ours = rows.stream().map(l -> l.time().median() * 1e3).toList();
        List<Double> cublas = rows.stream().map(l -> GemmPeerResult.of(peers, l).orElseThrow().time().median() * 1e3).toList();
        double oursMs = ours.stream().mapToDouble(Double::doubleValue).sum(), cublasMs = cublas.stream().mapToDouble(Double::doubleValue).sum();
        CategoryChart chart = new CategoryChartBuilder().width(1500).height(700)
                .title(String.format(Locale.ROOT, "Pointwise GEMMs: %s %s, batch %d, %dx%d: our fused launches %.2f ms, cuBLAS's GEMMs alone %.2f ms (%.2fx)",
                        first.backend(), BenchSuite.label(first.precision()), first.batch(), first.size(), first.size(), oursMs, cublasMs, oursMs / cublasMs))
                .xAxisTitle("fused launch (graph order)").yAxisTitle("median time (ms)").build();
        chart.getStyler().setAvailableSpaceFill(0.8).setXAxisLabelRotation(90).setLegendPosition(Styler.LegendPosition.OutsideS)
                .setChartBackgroundColor(Color.WHITE); // legend below: inside it would hide the tallest bars
        List<String> names = rows.stream().map(LayerResult::node).toList();
        chart.addSeries("jxception (depthwise + GEMM + BN epilogue)", names, ours).setFillColor(new Color(0x1f77b4));
        chart.addSeries("cuBLAS GEMM alone", names, cublas).setFillColor(new Color(0xd62728));
        return chart;
    }

    static XYChart throughput(BenchReport report) {
        XYChart chart = new XYChartBuilder().width(1000).height(650)
                .title("Forward throughput, " + report.options().size() + "x" + report.options().size() + ", " + report.deviceName())
                .xAxisTitle("batch size").yAxisTitle("images / s").build();
        chart.getStyler().setXAxisLogarithmic(true).setYAxisLogarithmic(true).setLegendPosition(Styler.LegendPosition.OutsideS)
                .setChartBackgroundColor(Color.WHITE).setMarkerSize(8);
        Map<String, Map<Integer, Double>> lines = new LinkedHashMap<>();
        for (ThroughputResult t : report.throughput()) {
            lines.computeIfAbsent("jxception " + t.backend() + " " + BenchSuite.label(t.precision()), k -> new LinkedHashMap<>())
                    .put(t.batch(), t.imagesPerSecond());
        }
        for (PeerResult p : report.peers()) {
            lines.computeIfAbsent(p.peer() + " " + p.precision() + " (" + p.device() + ")", k -> new LinkedHashMap<>())
                    .put(p.batch(), p.imagesPerSecond());
        }
        TreeSet<Integer> allBatches = new TreeSet<>();
        lines.values().forEach(m -> allBatches.addAll(m.keySet()));
        for (Map.Entry<String, Map<Integer, Double>> e : lines.entrySet()) {
            List<Integer> b = new ArrayList<>(new TreeSet<>(e.getValue().keySet()));
            XYSeries s = chart.addSeries(e.getKey(), b.stream().mapToDouble(Integer::doubleValue).toArray(),
                    b.stream().mapToDouble(e.getValue()::get).toArray());
            s.setMarker(SeriesMarkers.CIRCLE);
            for (int batch : b) {
                double v = e.getValue().get(batch);
                chart.addAnnotation(new AnnotationText(String.format(Locale.ROOT, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v), batch, v * 1.08, false));
            }
        }
        // ranges with room for the value labels (and around a single batch size)
        double yMin = lines.values().stream().flatMap(m -> m.values().stream()).mapToDouble(Double::doubleValue).min().orElse(1) / 1.3;
        double yMax = lines.values().stream().flatMap(m -> m.values().stream()).mapToDouble(Double::doubleValue).max().orElse(1) * 1.3;
        chart.getStyler().setXAxisMin(allBatches.first() / 1.5).setXAxisMax(allBatches.last() * 1.5).setYAxisMin(yMin).setYAxisMax(yMax);
        labelLogTicks(chart, allBatches.first() / 1.5, allBatches.last() * 1.5, yMin, yMax);
        return chart;
    }

    /**
     * A log axis spanning under two decades is labelled at 1, 2, ... 9 × 10^k, a wider one at
     * decades only (the labels would overlap). No custom label formatter: XChart would switch to
     * linear ticks.
     */
    private static void labelLogTicks(XYChart chart, double xMin, double xMax, double yMin, double yMax) {
        chart.getStyler().setXAxisLogarithmicDecadeOnly(xMax / xMin >= 100).setYAxisLogarithmicDecadeOnly(yMax / yMin >= 100);
    }

    private static Path save(org.knowm.xchart.internal.chartpart.Chart<?, ?> chart, Path file) throws IOException {
        try (var out = Files.newOutputStream(file)) {
            BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
        }
        return file;
    }

    static String fileName(String s) { return s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-|-$", ""); }
}
