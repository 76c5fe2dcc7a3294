package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.cuda.CudaLaunchPlan.OpPlan;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Pure-Java plan of the multi-tensor optimizer kernels ({@code sgd_update_multi_f32},
 * {@code unscale_gradient_multi_f32} in cuda/elementwise.cu): the weight table and the two chunk lists
 * as the bytes of one device buffer, and the launch over each. No driver call, so it is unit-tested
 * without a GPU; {@link CudaWeightUpdate} gives it the device addresses, uploads {@link #table()} once
 * and binds the sections.
 *
 * <p>Table layout, little-endian, each section starting on a {@link #SECTION_ALIGN}-byte boundary:
 * <pre>
 *   0                      weights:        entries().size() JxWeight, WEIGHT_BYTES each, in entry order
 *   sgdChunksOffset()      sgd chunks:     sgdChunks().size() JxChunk, CHUNK_BYTES each (stepped weights only)
 *   unscaleChunksOffset()  unscale chunks: unscaleChunks().size() JxChunk (every weight)
 *   tableBytes()           end
 * </pre>
 * A weight of {@code count} values has {@code ceil(count / CHUNK)} chunks, starting at 0, CHUNK, ...;
 * the chunks of one weight are consecutive and the weights in entry order, so block b of a launch
 * handles chunk b and every value of every listed weight exactly once.
 */
public final class MultiTensorPlan {
    /** Values per chunk, one 256-thread block each (JX_MT_CHUNK; elementwise.cu explains the choice). */
    public static final int CHUNK = 8192;
    /** JxWeight: bytes and field offsets (elementwise.cu). */
    public static final int WEIGHT_BYTES = 40, WEIGHT_PARAM = 0, WEIGHT_GRAD = 8, WEIGHT_VELOCITY = 16, WEIGHT_COUNT = 24, WEIGHT_DECAYS = 32;
    /** JxChunk: bytes and field offsets (elementwise.cu). */
    public static final int CHUNK_BYTES = 16, CHUNK_WEIGHT = 0, CHUNK_START = 8;
    /** Sections start on 256-byte boundaries (the alignment of cuMemAlloc and of the backend's views). */
    public static final int SECTION_ALIGN = 256;

    /**
     * One weight's device addresses (bytes) and size: {@code velocity} 0 marks a weight that is
     * unscaled but never stepped. {@code decays}: sgd applies the weight decay.
     */
    public record Entry(long param, long grad, long velocity, long count, boolean decays) {
        public Entry {
            if (param == 0 || grad == 0) throw new IllegalArgumentException("param and grad need device addresses");
            if (count < 1) throw new IllegalArgumentException("count must be positive, got " + count);
            if (param % 4 != 0 || grad % 4 != 0 || velocity % 4 != 0) {
                throw new IllegalArgumentException("fp32 addresses must be 4-byte aligned: " + Long.toHexString(param) + ", "
                        + Long.toHexString(grad) + ", " + Long.toHexString(velocity));
            }
        }

        public boolean stepped() { return velocity != 0; }
    }

    /** The values [start, min(start + CHUNK, count)) of entry {@code weight}. */
    public record Chunk(int weight, long start) {}

    private final List<Entry> entries;
    private final List<Chunk> sgdChunks, unscaleChunks;
    private final long sgdChunksOffset, unscaleChunksOffset, tableBytes;

    private MultiTensorPlan(List<Entry> entries) {
        this.entries = List.copyOf(entries);
        checkDisjoint(this.entries);
        List<Chunk> sgd = new ArrayList<>(), unscale = new ArrayList<>();
        for (int w = 0; w < this.entries.size(); w++) {
            Entry e = this.entries.get(w);
            for (long start = 0; start < e.count(); start += CHUNK) {
                unscale.add(new Chunk(w, start));
                if (e.stepped()) sgd.add(new Chunk(w, start));
            }
        }
        if (unscale.size() > Integer.MAX_VALUE / 2) throw new IllegalArgumentException(unscale.size() + " chunks: over one launch's grid");
        this.sgdChunks = List.copyOf(sgd);
        this.unscaleChunks = List.copyOf(unscale);
        this.sgdChunksOffset = align((long) WEIGHT_BYTES * this.entries.size());
        this.unscaleChunksOffset = sgdChunksOffset + align((long) CHUNK_BYTES * sgd.size());
        this.tableBytes = unscaleChunksOffset + align((long) CHUNK_BYTES * unscale.size());
    }

    /** The plan of {@code entries}, in their order; refuses weights whose buffers overlap (the blocks of one launch run concurrently). */
    public static MultiTensorPlan of(List<Entry> entries) { return new MultiTensorPlan(entries); }

    public List<Entry> entries() { return entries; }

    /** Blocks of the sgd launch, one per chunk of a stepped weight. */
    public List<Chunk> sgdChunks() { return sgdChunks; }

    /** Blocks of the unscale launch, one per chunk of any weight. */
    public List<Chunk> unscaleChunks() { return unscaleChunks; }

    public long sgdChunksOffset() { return sgdChunksOffset; }

    public long unscaleChunksOffset() { return unscaleChunksOffset; }

    /** Bytes of the device table (0 without weights: nothing to upload). */
    public long tableBytes() { return tableBytes; }

    /** The device table's bytes (layout in the class comment), a little-endian buffer of {@link #tableBytes()} from position 0, padding zero. */
    public ByteBuffer table() {
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(tableBytes)).order(ByteOrder.LITTLE_ENDIAN);
        for (int w = 0; w < entries.size(); w++) {
            Entry e = entries.get(w);
            int at = w * WEIGHT_BYTES;
            b.putLong(at + WEIGHT_PARAM, e.param());
            b.putLong(at + WEIGHT_GRAD, e.grad());
            b.putLong(at + WEIGHT_VELOCITY, e.velocity());
            b.putLong(at + WEIGHT_COUNT, e.count());
            b.putInt(at + WEIGHT_DECAYS, e.decays() ? 1 : 0);
        }
        putChunks(b, sgdChunksOffset, sgdChunks);
        putChunks(b, unscaleChunksOffset, unscaleChunks);
        return b;
    }

    private static void putChunks(ByteBuffer b, long offset, List<Chunk> chunks) {
        for (int i = 0; i < chunks.size(); i++) {
            int at = Math.toIntExact(offset + (long) i * CHUNK_BYTES);
            b.putInt(at + CHUNK_WEIGHT, chunks.get(i).weight());
            b.putLong(at + CHUNK_START, chunks.get(i).start());
        }
    }

    /**
     * {@code sgdUpdate} over every stepped weight: one launch of {@code sgd_update_multi_f32}, none when
     * no weight is stepped. Operands weights (the table) and chunks (its sgd section).
     */
    public OpPlan sgd(float lr, float momentum, float weightDecay) {
        if (sgdChunks.isEmpty()) return new OpPlan(List.of(), Map.of());
        return OpPlan.of(CudaLaunchPlan.sgdUpdateMulti(sgdChunks.size(), lr, momentum, weightDecay));
    }

    /**
     * {@code unscaleGradient} over every weight's gradient into one flag: one launch of
     * {@code unscale_gradient_multi_f32}, none without weights. Operands weights, chunks (the unscale section), overflow.
     */
    public OpPlan unscale(float factor) {
        if (unscaleChunks.isEmpty()) return new OpPlan(List.of(), Map.of());
        return OpPlan.of(CudaLaunchPlan.unscaleGradientMulti(unscaleChunks.size(), factor));
    }

    private static long align(long bytes) { return (bytes + SECTION_ALIGN - 1) / SECTION_ALIGN * SECTION_ALIGN; }

    /** Every byte range a launch writes or reads (param and velocity of stepped weights, every grad) belongs to one weight only. */
    private static void checkDisjoint(List<Entry> entries) {
        record Range(long from, long to, String what) {}
        List<Range> ranges = new ArrayList<>();
        for (int w = 0; w < entries.size(); w++) {
            Entry e = entries.get(w);
            long bytes = Math.multiplyExact(e.count(), 4L);
            ranges.add(new Range(e.grad(), e.grad() + bytes, "weight " + w + " grad"));
            if (e.stepped()) {
                ranges.add(new Range(e.param(), e.param() + bytes, "weight " + w + " param"));
                ranges.add(new Range(e.velocity(), e.velocity() + bytes, "weight " + w + " velocity"));
            }
        }
        ranges.sort(Comparator.comparingLong(Range::from));
        Range reach = null;   // of the ranges so far, the one that ends last
        for (Range r : ranges) {
            if (reach != null && r.from() < reach.to()) {
                throw new IllegalArgumentException(r.what() + " overlaps " + reach.what() + ": one launch updates every weight at once, so their buffers must be distinct");
            }
            if (reach == null || r.to() > reach.to()) reach = r;
        }
    }
}
