package io.jxception.bench;

import io.jxception.internal.tensor.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The suite's CSV files: RFC 4180 (comma separated, fields with commas, quotes or line breaks
 * quoted, quotes doubled), a header row, numbers in Java's locale-free format, empty cells for
 * values not measured. Two tables: {@link #LAYER_HEADER} (one row per fused launch) and
 * {@link #THROUGHPUT_HEADER} (one row per backend × precision × batch, and per peer).
 */
public final class Csv {
    private Csv() {}

    public static final List<String> LAYER_HEADER = List.of("backend", "device", "precision", "batch", "size", "index",
            "node", "kernel", "stage", "flops", "bytes", "intensity", "time_ms", "time_min_ms", "samples", "gflops", "gbps",
            "floor_ms", "floor_fraction", "bound", "clock", "gemm_peer", "gemm_peer_ms", "gemm_peer_speedup", "layer_peer", "layer_peer_ms",
            "layer_peer_ratio");

    public static final List<String> THROUGHPUT_HEADER = List.of("source", "backend", "device", "precision", "batch",
            "size", "images_per_second", "best_images_per_second", "forward_ms", "forward_min_ms", "samples", "gflops", "floor_images_per_second",
            "floor_fraction", "clock", "load_average", "model", "mode", "first_call_s", "best_pytorch", "ours_over_best_pytorch");

    /**
     * One row per launch. The last three columns hold the launch's pointwise GEMM timed alone by a
     * cuBLAS peer (CUDA rows with a separable or 1×1 conv, where a peer ran): {@code gemm_peer} names
     * it, {@code gemm_peer_ms} is its median, {@code gemm_peer_speedup} = time_ms / gemm_peer_ms, how
     * many times faster cuBLAS runs the bare GEMM than our whole fused launch (depthwise, batch norm,
     * residual and ReLU included): above 1, cuBLAS is faster. The last three hold the launch's work done
     * by PyTorch eager on the same card ({@link LayerPeerResult}: cuDNN's convolutions and PyTorch's
     * elementwise kernels): {@code layer_peer}, its median {@code layer_peer_ms}, and
     * {@code layer_peer_ratio} = time_ms / layer_peer_ms (above 1, PyTorch is faster).
     */
    public static void writeLayers(Path file, List<LayerResult> rows, List<GemmPeerResult> gemmPeers, List<LayerPeerResult> layerPeers)
            throws IOException {
        List<List<String>> out = new ArrayList<>();
        for (LayerResult r : rows) {
            boolean t = r.isTimed();
            var g = GemmPeerResult.of(gemmPeers, r);
            var lp = LayerPeerResult.of(layerPeers, r);
            List<String> row = new ArrayList<>(List.of(r.backend(), r.device(), BenchSuite.label(r.precision()), String.valueOf(r.batch()),
                    String.valueOf(r.size()), String.valueOf(r.index()), r.node(), r.kernel().kernelName(), r.stage().label(),
                    String.valueOf(r.cost().flops()), String.valueOf(r.cost().bytes()), number(r.cost().intensity()),
                    t ? number(r.time().median() * 1e3) : "", t ? number(r.time().min() * 1e3) : "",
                    t ? String.valueOf(r.time().count()) : "", number(r.gflops()), number(r.gbps()),
                    number(r.floorSeconds() * 1e3), number(r.floorFraction()),
                    r.peaks() == null ? "" : r.cost().bound(r.peaks()), r.clock() == null ? "" : r.clock(),
                    g.map(GemmPeerResult::peer).orElse(""), g.map(x -> number(x.time().median() * 1e3)).orElse(""),
                    g.map(x -> number(GemmPeerResult.ratio(r, x))).orElse("")));
            row.addAll(List.of(lp.map(LayerPeerResult::peer).orElse(""), lp.map(x -> number(x.time().median() * 1e3)).orElse(""),
                    lp.map(x -> number(LayerPeerResult.ratio(r, x))).orElse("")));
            out.add(row);
        }
        write(file, LAYER_HEADER, out);
    }

    /** {@link #writeLayers(Path, List, List, List)} without per-layer peers. */
    public static void writeLayers(Path file, List<LayerResult> rows, List<GemmPeerResult> gemmPeers) throws IOException {
        writeLayers(file, rows, gemmPeers, List.of());
    }

    /**
     * One row per configuration of ours and per peer row. Peer rows name their {@code model} and
     * {@code mode} and the {@code first_call_s} (under torch.compile: compile + one forward); our rows
     * name the fastest PyTorch row of their batch and precision on their device ({@code best_pytorch},
     * its label) and {@code ours_over_best_pytorch} = our img/s / its img/s (medians; above 1, we are faster).
     */
    public static void writeThroughput(Path file, List<ThroughputResult> ours, List<PeerResult> peers) throws IOException {
        List<List<String>> out = new ArrayList<>();
        for (ThroughputResult t : ours) {
            var best = PeerResult.best(peers, t);
            out.add(List.of("jxception", t.backend(), t.device(), BenchSuite.label(t.precision()), String.valueOf(t.batch()),
                    String.valueOf(t.size()), number(t.imagesPerSecond()), number(t.bestImagesPerSecond()), number(t.forward().median() * 1e3),
                    number(t.forward().min() * 1e3), String.valueOf(t.forward().count()), number(t.gflops()),
                    number(t.floorImagesPerSecond()), number(t.floorImagesPerSecond() > 0 ? t.imagesPerSecond() / t.floorImagesPerSecond() : Double.NaN),
                    t.clock(), number(t.loadAverage()), "jxception", "", "", best.map(PeerResult::peer).orElse(""),
                    best.map(p -> number(t.imagesPerSecond() / p.imagesPerSecond())).orElse("")));
        }
        for (PeerResult p : peers) {
            out.add(List.of("peer", p.peer(), p.device(), p.precision(), String.valueOf(p.batch()), String.valueOf(p.size()),
                    number(p.imagesPerSecond()), number(p.bestImagesPerSecond()), number(p.forward().median() * 1e3), number(p.forward().min() * 1e3),
                    String.valueOf(p.forward().count()), "", "", "", p.device().startsWith("cuda") ? "CUDA events" : "host wall clock", number(p.loadAverage()),
                    p.model(), p.mode(), number(p.firstCallSeconds()), "", ""));
        }
        write(file, THROUGHPUT_HEADER, out);
    }

    static void write(Path file, List<String> header, List<List<String>> rows) throws IOException {
        StringBuilder sb = new StringBuilder();
        line(sb, header);
        for (List<String> r : rows) {
            if (r.size() != header.size()) throw new IllegalStateException("CSV row has " + r.size() + " cells, header " + header.size());
            line(sb, r);
        }
        AtomicFiles.write(file, sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Reads a file this class wrote: the header row first. */
    public static List<List<String>> read(Path file) throws IOException {
        List<List<String>> rows = new ArrayList<>();
        String s = Files.readString(file, StandardCharsets.UTF_8);
        List<String> row = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < s.length() && s.charAt(i + 1) == '"') { cell.append('"'); i++; }
                else if (c == '"') quoted = false;
                else cell.append(c);
            } else if (c == '"') quoted = true;
            else if (c == ',') { row.add(cell.toString()); cell.setLength(0); }
            else if (c == '\n') { row.add(cell.toString()); cell.setLength(0); rows.add(row); row = new ArrayList<>(); }
            else if (c != '\r') cell.append(c);
        }
        if (quoted) throw new IOException(file + ": unterminated quoted CSV field");
        if (cell.length() > 0 || !row.isEmpty()) { row.add(cell.toString()); rows.add(row); }
        return rows;
    }

    private static void line(StringBuilder sb, List<String> cells) {
        for (int i = 0; i < cells.size(); i++) {
            if (i > 0) sb.append(',');
            String c = cells.get(i);
            if (c.indexOf(',') >= 0 || c.indexOf('"') >= 0 || c.indexOf('\n') >= 0 || c.indexOf('\r') >= 0) {
                sb.append('"').append(c.replace("\"", "\"\"")).append('"');
            } else sb.append(c);
        }
        sb.append('\n');
    }

    /** Six significant digits, empty for NaN. */
    static String number(double v) {
        if (Double.isNaN(v)) return "";
        if (Double.isInfinite(v)) return v > 0 ? "inf" : "-inf";
        return String.format(Locale.ROOT, "%.6g", v).replaceFirst("(\\.\\d*?)0+($|e)", "$1$2").replaceFirst("\\.($|e)", "$1");
    }
}
