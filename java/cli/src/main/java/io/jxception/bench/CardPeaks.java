package io.jxception.bench;

import io.jxception.internal.json.Json;

import java.nio.file.Files;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The ceilings of a card's roofline, as the best of every probe that ran on it: our own kernels'
 * ({@link PeakMeter}, per backend and precision: CUDA and OpenCL on one card both count) and a vendor
 * library's (benchmarks/peers/card_peaks.py: cuBLAS through torch.matmul on large square matrices per
 * precision, and torch's device-to-device copy_). Compute: the best FLOP/s of any probe on the same
 * card in the same precision. Bandwidth: the best bytes/s of any probe on the same card, in any
 * precision (DRAM bandwidth is the device's). A card is named by the device name that starts every
 * backend description ("NVIDIA H200" of "NVIDIA H200 (sm_90, ...), bf16, ..." and of OpenCL's
 * "NVIDIA H200 (GPU, 132 compute units, ...), fp32, ..."), which is also the name torch reports.
 * Before 2026-12 the suite took our own kernels' best as the peak: "100% of floor" meant as fast as
 * our best kernel, not as fast as the card goes.
 */
public final class CardPeaks {
    private CardPeaks() {}

    /**
     * One probe's result on one card in one precision: a compute ceiling, a bandwidth ceiling or
     * both (NaN where the probe measured none).
     *
     * @param source e.g. "jxception cuda:0", "cuBLAS via torch.matmul", "torch copy_"
     */
    public record Source(String card, String precision, String source, double flopsPerSecond, String computeProbe,
                         double bytesPerSecond, String bandwidthProbe, String measuredAt) {
        /** Our kernels' probe of one backend: both ceilings. */
        static Source ours(String backendName, String precision, Peaks p) {
            return new Source(CardPeaks.card(p.device()), precision, "jxception " + backendName, p.flopsPerSecond(), p.computeProbe(),
                    p.bytesPerSecond(), p.bandwidthProbe(), p.measuredAt());
        }
    }

    /** Sources that give a backend its ceilings, or why the vendor probe did not run. */
    public record Outcome(List<Source> sources, List<String> notes) {}

    /** The card a backend description names: its text before the first " (" or ",". */
    public static String card(String description) {
        int end = description.length();
        for (String stop : List.of(" (", ",")) {
            int i = description.indexOf(stop);
            if (i > 0) end = Math.min(end, i);
        }
        return description.substring(0, end).strip();
    }

    /** Whether a backend description is a GPU's: CUDA's ("(sm_90, ...") or OpenCL's ("(GPU, ..."). */
    public static boolean isGpu(String description) {
        return description.contains("(GPU,") || description.matches("(?s)[^(]*\\(sm_\\d+.*");
    }

    /**
     * The ceilings of one backend configuration: the fastest compute source on its card in its
     * precision and the fastest bandwidth source on its card; each probe string starts with the
     * source that set it. Empty when no source measured both on that card.
     *
     * @param description the backend's description (the Peaks' device, so layer rows keep their key)
     */
    public static Optional<Peaks> select(String description, String precision, List<Source> sources) {
        String card = card(description);
        Optional<Source> compute = sources.stream().filter(s -> s.card().equals(card) && s.precision().equals(precision)
                && s.flopsPerSecond() > 0).max(Comparator.comparingDouble(Source::flopsPerSecond));
        Optional<Source> bandwidth = sources.stream().filter(s -> s.card().equals(card) && s.bytesPerSecond() > 0)
                .max(Comparator.comparingDouble(Source::bytesPerSecond));
        if (compute.isEmpty() || bandwidth.isEmpty()) return Optional.empty();
        Source c = compute.get(), b = bandwidth.get();
        return Optional.of(new Peaks(description, c.flopsPerSecond(), b.bytesPerSecond(), c.source() + ": " + c.computeProbe(),
                b.source() + ": " + b.bandwidthProbe(), c.measuredAt().compareTo(b.measuredAt()) >= 0 ? c.measuredAt() : b.measuredAt()));
    }

    /** The name a vendor probe's result is cached under in the peaks cache: one entry per card and precision. */
    static String cacheName(String card, String precision) { return "vendor probes on " + card + ", " + precision; }

    /** Seconds the card-peak script may take: torch's start, the copy and every precision's products. */
    static final long BUDGET_SECONDS = 150;

    /** The vendor's compute and bandwidth sources of one card and precision, as the cache keeps them (both measured). */
    static List<Source> fromCache(String card, String precision, Peaks p) {
        return List.of(new Source(card, precision, COMPUTE_SOURCE, p.flopsPerSecond(), p.computeProbe(), Double.NaN, null, p.measuredAt()),
                new Source(card, precision, BANDWIDTH_SOURCE, Double.NaN, null, p.bytesPerSecond(), p.bandwidthProbe(), p.measuredAt()));
    }

    /** The vendor sources of one card and precision as one cache entry, when both were measured. */
    static Optional<Peaks> toCache(List<Source> vendor, String card, String precision) {
        Optional<Source> c = vendor.stream().filter(s -> s.card().equals(card) && s.precision().equals(precision) && s.flopsPerSecond() > 0).findFirst();
        Optional<Source> b = vendor.stream().filter(s -> s.card().equals(card) && s.bytesPerSecond() > 0).findFirst();
        if (c.isEmpty() || b.isEmpty()) return Optional.empty();
        return Optional.of(new Peaks(cacheName(card, precision), c.get().flopsPerSecond(), b.get().bytesPerSecond(), c.get().computeProbe(),
                b.get().bandwidthProbe(), c.get().measuredAt()));
    }

    static final String COMPUTE_SOURCE = "cuBLAS via torch.matmul", BANDWIDTH_SOURCE = "torch copy_";

    /**
     * Runs benchmarks/peers/card_peaks.py on CUDA in {@code precisions}. A missing script, torch or
     * GPU is not an error: the outcome then has no sources and a "card peaks: vendor probes
     * unavailable: ..." note, and the ceilings are our kernels' alone.
     */
    public static Outcome measure(BenchOptions.PeerOptions o, List<String> precisions, long budgetSeconds) {
        List<String> notes = new ArrayList<>();
        if (o.peaksScript() == null || !Files.isRegularFile(o.peaksScript())) {
            notes.add("card peaks: vendor probes unavailable: no script at " + o.peaksScript()
                    + " (run from the repository root or pass --peaks-script); the ceilings are our kernels' alone");
            return new Outcome(List.of(), notes);
        }
        PeerRunner.ScriptAnswer answer = PeerRunner.runScript(o, python -> List.of(python, o.peaksScript().toString(), "--device", "cuda",
                "--precision", String.join(",", precisions)), null, budgetSeconds);
        if (answer.json() == null) {
            notes.add("card peaks: vendor probes unavailable: " + answer.failure() + "; the ceilings are our kernels' alone");
            return new Outcome(List.of(), notes);
        }
        if (answer.timedOut()) notes.add("card peaks: the vendor probes stopped at their budget of " + budgetSeconds + " s" + answer.doing());
        return new Outcome(parse(answer.json(), Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), notes), notes);
    }

    /**
     * The sources in card_peaks.py's JSON: per precision the fastest product (min time over its
     * repetitions and sizes), and the fastest copy (its bytes: read + write).
     */
    static List<Source> parse(Map<String, Object> json, String measuredAt, List<String> notes) {
        String card = String.valueOf(json.get("device_name")), library = String.valueOf(json.get("library"));
        List<Source> out = new ArrayList<>();
        for (Object x : json.get("bandwidth") instanceof List<?> l ? l : List.of()) {
            Map<?, ?> r = (Map<?, ?>) x;
            if (r.get("error") != null) {
                notes.add("card peaks: torch copy_ failed: " + r.get("error"));
                continue;
            }
            double bytes = Json.number(r.get("bytes")), seconds = Json.number(r.get("min_ms")) / 1e3;
            String probe = String.format(Locale.ROOT, "dst.copy_(src) over two %.0f MiB fp32 buffers on the device, read + write counted"
                    + " (%.0f MiB per copy), fastest of %d (torch %s)", Json.number(r.get("buffer_bytes")) / 1048576, bytes / 1048576,
                    (int) Json.number(r.get("samples")), json.get("torch"));
            out.add(new Source(card, "any", BANDWIDTH_SOURCE, Double.NaN, null, bytes / seconds, probe, measuredAt));
        }
        List<Source> bandwidth = List.copyOf(out);
        out.clear();
        Map<String, Source> best = new java.util.LinkedHashMap<>(); // precision -> fastest product
        for (Object x : json.get("compute") instanceof List<?> l ? l : List.of()) {
            Map<?, ?> r = (Map<?, ?>) x;
            String precision = String.valueOf(r.get("precision"));
            int n = (int) Json.number(r.get("n"));
            if (r.get("error") != null) {
                notes.add("card peaks: torch.matmul " + precision + " " + n + "^3 failed: " + r.get("error"));
                continue;
            }
            double flops = Json.number(r.get("flops")), rate = flops / (Json.number(r.get("min_ms")) / 1e3);
            String probe = String.format(Locale.ROOT, "torch.matmul %dx%dx%d %s, %.2f TFLOP per product, fastest of %d (%s)", n, n, n, precision,
                    flops / 1e12, (int) Json.number(r.get("samples")), library);
            Source s = new Source(card, precision, COMPUTE_SOURCE, rate, probe, Double.NaN, null, measuredAt);
            best.merge(precision, s, (a, b) -> a.flopsPerSecond() >= b.flopsPerSecond() ? a : b);
        }
        out.addAll(best.values());
        out.addAll(bandwidth);
        return out;
    }
}
