package io.jxception.bench;

import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * Everything one run of the suite measured, as the CSV, JSON, plot and summary writers read it.
 *
 * @param command      the command line that produced it (for the summary's "how to reproduce")
 * @param loadBefore   1-minute load average before the run; {@code loadAfter} after it
 * @param peaks        the ceilings of each measured backend configuration (its description is the device): the best
 *                     of {@code peakSources} on its card ({@link CardPeaks#select}), or, in reports before 2026-12,
 *                     our own kernels' alone
 * @param gemmPeers    cuBLAS's times for the pointwise GEMMs of the CUDA launches ({@link GemmPeerResult#of} matches them to layer rows)
 * @param notes        what could not be measured and why ("opencl fp32 unavailable: ...", "peer unavailable: ...")
 * @param peakSources  every probe of a card's ceilings (ours per backend, cuBLAS through torch.matmul, torch's copy); empty
 *                     in reports before 2026-12
 * @param layerPeers   PyTorch eager (cuDNN) doing each fused launch's work alone on the same card ({@link LayerPeerResult#of})
 */
public record BenchReport(BenchOptions options, String command, Machine machine, Instant started, Instant finished,
                          double loadBefore, double loadAfter, List<Peaks> peaks, List<ThroughputResult> throughput,
                          List<LayerResult> layers, List<PeerResult> peers, List<GemmPeerResult> gemmPeers, List<String> notes,
                          List<CardPeaks.Source> peakSources, List<LayerPeerResult> layerPeers) {
    public BenchReport {
        peaks = List.copyOf(peaks);
        throughput = List.copyOf(throughput);
        layers = List.copyOf(layers);
        peers = List.copyOf(peers);
        gemmPeers = List.copyOf(gemmPeers);
        notes = List.copyOf(notes);
        peakSources = List.copyOf(peakSources);
        layerPeers = List.copyOf(layerPeers);
    }

    /** A report without card-peak sources or per-layer peers (as every report before 2026-12). */
    public BenchReport(BenchOptions options, String command, Machine machine, Instant started, Instant finished,
                       double loadBefore, double loadAfter, List<Peaks> peaks, List<ThroughputResult> throughput,
                       List<LayerResult> layers, List<PeerResult> peers, List<GemmPeerResult> gemmPeers, List<String> notes) {
        this(options, command, machine, started, finished, loadBefore, loadAfter, peaks, throughput, layers, peers, gemmPeers, notes,
                List.of(), List.of());
    }

    /** The same report with {@code first} before its notes (what the caller knew before the run: the device step's probes). */
    public BenchReport withNotesFirst(List<String> first) {
        List<String> all = new java.util.ArrayList<>(first);
        all.addAll(notes);
        return new BenchReport(options, command, machine, started, finished, loadBefore, loadAfter, peaks, throughput, layers, peers,
                gemmPeers, all, peakSources, layerPeers);
    }

    /**
     * The device the report is about: a CUDA device's name (its description up to the parenthesised
     * details) where one was measured, else this machine's CPU model.
     */
    public String deviceName() {
        return throughput.stream().filter(t -> t.backend().startsWith("cuda")).map(ThroughputResult::device)
                .map(d -> d.replaceFirst(" \\(.*", "")).findFirst().orElse(machine.cpuModel());
    }

    /** {@link #deviceName} for file names: lower case, words joined by '-', "(R)" and "(TM)" dropped. */
    public String deviceSlug() {
        String slug = deviceName().toLowerCase(Locale.ROOT).replaceAll("\\(r\\)|\\(tm\\)", "").replaceAll("[^a-z0-9]+", "-")
                .replaceAll("^-|-$", "");
        if (slug.length() > 40) slug = slug.substring(0, 40).replaceAll("-$", "");
        return slug.isEmpty() ? "unknown-device" : slug;
    }

    /** The start date, yyyy-mm-dd (UTC), for file names. */
    public String date() { return started.toString().substring(0, 10); }
}
