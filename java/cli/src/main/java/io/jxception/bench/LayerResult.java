package io.jxception.bench;

import io.jxception.backend.Precision;
import io.jxception.model.Node;
import io.jxception.model.XceptionGraph;

import java.util.ArrayList;
import java.util.List;

/**
 * One fused launch (one graph node) of one forward pass on one backend at one batch size: its
 * counted cost and, once timed, its time and where it stands against the device's floor.
 * {@code time}, {@code peaks} and {@code clock} are null in a counts-only row.
 *
 * @param device the backend's description (device, driver, precision)
 * @param size   input height = width
 */
public record LayerResult(String backend, String device, Precision precision, int batch, int size, int index,
                          String node, Kernel kernel, Stage stage, LaunchCost cost, Samples time, Peaks peaks,
                          String clock) {
    /**
     * The counts-only rows of one forward: one per node, in graph order. The suite fills in times
     * with {@link #timed}; every CSV row comes from here.
     */
    public static List<LayerResult> count(XceptionGraph graph, int batch, Precision precision, String backend, String device) {
        Stage[] stages = Stage.of(graph);
        List<LayerResult> rows = new ArrayList<>();
        int size = graph.config().inputHeight();
        for (int i = 0; i < graph.nodes().size(); i++) {
            Node n = graph.nodes().get(i);
            rows.add(new LayerResult(backend, device, precision, batch, size, i, n.name(), Kernel.of(n), stages[i],
                    LaunchCost.of(graph, n, batch, precision), null, null, null));
        }
        return rows;
    }

    public LayerResult timed(Samples t, Peaks p, String clockKind) {
        return new LayerResult(backend, device, precision, batch, size, index, node, kernel, stage, cost, t, p, clockKind);
    }

    public boolean isTimed() { return time != null; }

    /** Achieved GFLOP/s at the median time (NaN untimed). */
    public double gflops() { return isTimed() ? cost.flops() / time.median() / 1e9 : Double.NaN; }

    /** Achieved GB/s of the minimum bytes at the median time (NaN untimed). */
    public double gbps() { return isTimed() ? cost.bytes() / time.median() / 1e9 : Double.NaN; }

    /** max(FLOPs/peak, bytes/bandwidth) in seconds (NaN without peaks). */
    public double floorSeconds() { return peaks == null ? Double.NaN : cost.floorSeconds(peaks); }

    /** floor / median time: 1 means the launch runs at the device's roofline (NaN untimed). */
    public double floorFraction() { return isTimed() ? floorSeconds() / time.median() : Double.NaN; }
}
