package io.jxception.cli.stream;

import io.jxception.internal.text.Printable;
import io.jxception.image.ImageNetLabels;
import io.jxception.image.TopK;
import io.jxception.internal.json.Json;
import io.jxception.tensor.Tensor;

import java.io.IOException;
import java.io.Writer;
import java.util.Locale;
import java.util.List;
import java.util.TreeMap;

/**
 * Top-k classes per image as text lines, written in row order although batches arrive from
 * several devices (or, gathered, from several processes) in any order: a batch is held back until
 * the rows before its {@link InputBatch#firstRow} are written, so any producer that numbers rows
 * from 0 without gaps fits:
 * <ul>
 * <li>{@link Format#TEXT}: the image's name, then k lines "  0.8123  n02123045  tabby" (or "class 3"
 *     without ImageNet labels), as {@code classify} prints them;</li>
 * <li>{@link Format#CSV}: a header, then per image {@code input,class_1,label_1,probability_1,...}
 *     (class: WordNet id or index; label empty without ImageNet labels), RFC 4180 quoting;</li>
 * <li>{@link Format#JSONL}: per image {"input": "...", "top": [{"index": 281, "wnid": "...",
 *     "label": "...", "probability": 0.8123}, ...]} (no wnid and label without ImageNet labels).</li>
 * </ul>
 */
public final class TopKLines implements DeviceWorkers.Outputs {
    /** Output layout. */
    public enum Format { TEXT, CSV, JSONL }

    private final Writer out;
    private final Format format;
    private final ImageNetLabels labels;   // null: classes are indices
    private final int k;
    private final int classes;
    private final Runnable perBatch;
    private final TreeMap<Long, Object[]> pending = new TreeMap<>();   // first row -> {names, output}
    private long nextRow;

    /**
     * @param labels   names of the 1000 ImageNet classes, or null to print indices
     * @param perBatch called after each batch's lines are written (flush, progress); may be null
     */
    public TopKLines(Writer out, Format format, ImageNetLabels labels, int k, int classes, Runnable perBatch) throws IOException {
        this.out = out;
        this.format = format;
        this.labels = labels;
        this.k = k;
        this.classes = classes;
        this.perBatch = perBatch;
        if (format == Format.CSV) {
            StringBuilder h = new StringBuilder("input");
            for (int r = 1; r <= Math.min(k, classes); r++) h.append(",class_").append(r).append(",label_").append(r).append(",probability_").append(r);
            out.write(h.append('\n').toString());
        }
    }

    @Override public void accept(InputBatch batch, Tensor output) throws IOException {
        accept(batch.firstRow(), batch.names(), output);
    }

    /** The rows from {@code firstRow}, one per name, with their probabilities (names.size(), classes). */
    public synchronized void accept(long firstRow, List<String> names, Tensor probabilities) throws IOException {
        if (firstRow < nextRow || pending.containsKey(firstRow)) {
            throw new IllegalStateException("rows from " + firstRow + " arrived twice");
        }
        pending.put(firstRow, new Object[]{names, probabilities});
        while (!pending.isEmpty() && pending.firstKey() == nextRow) {
            Object[] e = pending.pollFirstEntry().getValue();
            @SuppressWarnings("unchecked") List<String> n = (List<String>) e[0];
            write(n, (Tensor) e[1]);
            nextRow += n.size();
            if (perBatch != null) perBatch.run();
        }
    }

    /** Batches received but not yet written (waiting for an earlier one); 0 after a complete run. */
    public synchronized int held() { return pending.size(); }

    private void write(List<String> names, Tensor probabilities) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < names.size(); i++) {
            String name = Printable.escape(names.get(i)); // names from the file system may hold terminal escapes
            var top = TopK.of(probabilities.data(), i * classes, classes, k);
            switch (format) {
                case TEXT -> {
                    sb.append(name).append('\n');
                    for (TopK.Entry e : top) {
                        String c = labels == null ? "class " + e.index() : labels.get(e.index()).wnid() + "  " + labels.get(e.index()).label();
                        sb.append(String.format(Locale.ROOT, "  %.4f  %s%n", e.value(), c));
                    }
                }
                case CSV -> {
                    sb.append(csv(name));
                    for (TopK.Entry e : top) {
                        sb.append(',').append(labels == null ? String.valueOf(e.index()) : labels.get(e.index()).wnid());
                        sb.append(',').append(labels == null ? "" : csv(labels.get(e.index()).label()));
                        sb.append(',').append(String.format(Locale.ROOT, "%.6g", e.value()));
                    }
                    sb.append('\n');
                }
                case JSONL -> {
                    sb.append("{\"input\": ").append(Json.quote(name)).append(", \"top\": [");
                    for (int r = 0; r < top.size(); r++) {
                        TopK.Entry e = top.get(r);
                        sb.append(r == 0 ? "" : ", ").append("{\"index\": ").append(e.index());
                        if (labels != null) {
                            sb.append(", \"wnid\": ").append(Json.quote(labels.get(e.index()).wnid()))
                                    .append(", \"label\": ").append(Json.quote(labels.get(e.index()).label()));
                        }
                        sb.append(", \"probability\": ").append(String.format(Locale.ROOT, "%.6g", e.value())).append('}');
                    }
                    sb.append("]}\n");
                }
            }
        }
        out.write(sb.toString());
    }

    private static String csv(String field) {
        if (field.indexOf(',') < 0 && field.indexOf('"') < 0 && field.indexOf('\n') < 0 && field.indexOf('\r') < 0) return field;
        return '"' + field.replace("\"", "\"\"") + '"';
    }
}
