package io.jxception.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A report as benchmarks/results/ keeps it, every name carrying device and date
 * (&lt;base&gt; = e.g. amd-epyc-2026-11-02):
 * {@code layers-<base>.csv}, {@code throughput-<base>.csv}, {@code report-<base>.json},
 * {@code plots-<base>/*.png} and {@code SUMMARY-<base>.md}.
 */
public final class ReportFiles {
    private ReportFiles() {}

    public static List<Path> write(BenchReport r, Path dir) throws IOException {
        Files.createDirectories(dir);
        String base = r.deviceSlug() + "-" + r.date();
        List<Path> written = new ArrayList<>();
        Path layers = dir.resolve("layers-" + base + ".csv");
        Csv.writeLayers(layers, r.layers(), r.gemmPeers(), r.layerPeers());
        written.add(layers);
        Path throughput = dir.resolve("throughput-" + base + ".csv");
        Csv.writeThroughput(throughput, r.throughput(), r.peers());
        written.add(throughput);
        Path json = dir.resolve("report-" + base + ".json");
        JsonReport.write(json, r);
        written.add(json);
        List<Path> plots = List.of();
        String noPlots = null;
        try {
            plots = Plots.write(r, dir.resolve("plots-" + base));
        } catch (LinkageError e) { // XChart or java.desktop missing (a trimmed runtime): everything but the plots
            noPlots = "plots not drawn here (" + e.getClass().getSimpleName() + ": " + e.getMessage() + "); render the JSON with"
                    + " 'jxception bench --from-json' where XChart and java.desktop are on the class path";
        }
        written.addAll(plots);
        Path summary = dir.resolve("SUMMARY-" + base + ".md");
        SummaryReport.write(summary, noPlots == null ? r : r.withNotesFirst(List.of(noPlots)), plots);
        written.add(summary);
        return written;
    }
}
