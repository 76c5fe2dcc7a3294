package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.cuda.CudaLaunchPlan.Launch;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.OpPlan;
import io.jxception.internal.backend.cuda.MultiTensorPlan.Chunk;
import io.jxception.internal.backend.cuda.MultiTensorPlan.Entry;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The multi-tensor optimizer's plan (no GPU): chunks, table bytes, launches, and the C structs it mirrors. */
class MultiTensorPlanTest {
    static final int C = MultiTensorPlan.CHUNK;
    /** Odd sizes around the chunk size; which are stepped and which decay. */
    static final long[] COUNTS = {1, 3, C - 1, C, C + 1, 4L * C - 1, 4L * C, 4L * C + 1, 100_003};
    static final boolean[] STEPPED = {true, false, true, true, false, true, true, true, false};
    static final boolean[] DECAYS = {true, true, false, true, false, false, true, true, true};

    /** Fake, disjoint, 256-byte aligned addresses: weight w's param, grad and velocity. */
    static List<Entry> entries(long[] counts, boolean[] stepped, boolean[] decays) {
        List<Entry> out = new ArrayList<>();
        long next = 0x7f00_0000_0000L;
        for (int w = 0; w < counts.length; w++) {
            long bytes = (4 * counts[w] + 255) / 256 * 256;
            long p = next, g = p + bytes, v = g + bytes;
            next = v + bytes;
            out.add(new Entry(p, g, stepped[w] ? v : 0, counts[w], decays[w]));
        }
        return out;
    }

    static MultiTensorPlan plan() { return MultiTensorPlan.of(entries(COUNTS, STEPPED, DECAYS)); }

    /** Values of each weight covered by {@code chunks}, failing on any value covered twice or chunk out of order. */
    static void assertCoversOnce(List<Chunk> chunks, List<Entry> entries, boolean steppedOnly) {
        List<boolean[]> seen = new ArrayList<>();
        for (Entry e : entries) seen.add(new boolean[(int) e.count()]);
        int lastWeight = -1;
        long lastStart = -1;
        for (Chunk c : chunks) {
            Entry e = entries.get(c.weight());
            assertTrue(!steppedOnly || e.stepped(), "sgd chunk of a weight that is not stepped: " + c);
            assertEquals(0, c.start() % C, "chunks start on multiples of CHUNK: " + c);
            assertTrue(c.start() < e.count(), "chunk past its weight's end: " + c);
            // in order: weights ascending, a weight's chunks consecutive and ascending
            assertTrue(c.weight() > lastWeight || (c.weight() == lastWeight && c.start() == lastStart + C), "chunk order at " + c);
            if (c.weight() > lastWeight) assertEquals(0, c.start(), "a weight's first chunk starts at 0: " + c);
            lastWeight = c.weight();
            lastStart = c.start();
            long end = Math.min(c.start() + C, e.count());   // the kernel's bound
            for (long i = c.start(); i < end; i++) {
                assertFalse(seen.get(c.weight())[(int) i], "value " + i + " of weight " + c.weight() + " covered twice");
                seen.get(c.weight())[(int) i] = true;
            }
        }
        for (int w = 0; w < entries.size(); w++) {
            boolean want = !steppedOnly || entries.get(w).stepped();
            boolean[] s = seen.get(w);
            for (int i = 0; i < s.length; i++) if (s[i] != want) throw new AssertionError("weight " + w + " value " + i + (want ? " not covered" : " covered"));
        }
    }

    @Test
    void everyValueOfEveryWeightIsCoveredExactlyOnce() {
        MultiTensorPlan p = plan();
        assertCoversOnce(p.unscaleChunks(), p.entries(), false);
        assertCoversOnce(p.sgdChunks(), p.entries(), true);
        long all = 0, stepped = 0;
        for (Entry e : p.entries()) {
            long n = (e.count() + C - 1) / C;
            all += n;
            if (e.stepped()) stepped += n;
        }
        assertEquals(all, p.unscaleChunks().size());
        assertEquals(stepped, p.sgdChunks().size());
        // chunk boundaries at the weights' ends: C-1 and C are one chunk, C+1 two; 4C+1 five, its last holding one value
        assertEquals(List.of(new Chunk(7, 0), new Chunk(7, C), new Chunk(7, 2L * C), new Chunk(7, 3L * C), new Chunk(7, 4L * C)),
                p.unscaleChunks().stream().filter(c -> c.weight() == 7).toList());
        assertEquals(1, p.unscaleChunks().stream().filter(c -> c.weight() == 3).count());
        assertEquals(2, p.unscaleChunks().stream().filter(c -> c.weight() == 4).count());
    }

    @Test
    void oneLaunchPerCallAndNoneWithoutWork() {
        MultiTensorPlan p = plan();
        OpPlan sgd = p.sgd(0.1f, 0.9f, 1e-4f), unscale = p.unscale(0x1p-16f);
        assertEquals(1, sgd.launches().size());
        assertEquals(1, unscale.launches().size());
        Launch s = sgd.launches().get(0), u = unscale.launches().get(0);
        assertEquals("sgd_update_multi_f32", s.kernel());
        assertEquals(p.sgdChunks().size(), s.gridX());
        assertEquals(CudaLaunchPlan.THREADS, s.blockX());
        assertEquals(List.of(new CudaLaunchPlan.Ptr("weights", false), new CudaLaunchPlan.Ptr("chunks", false), new CudaLaunchPlan.F32("lr", 0.1f),
                new CudaLaunchPlan.F32("momentum", 0.9f), new CudaLaunchPlan.F32("weightDecay", 1e-4f)), s.args());
        assertEquals("unscale_gradient_multi_f32", u.kernel());
        assertEquals(p.unscaleChunks().size(), u.gridX());
        assertEquals(new CudaLaunchPlan.Ptr("overflow", false), u.args().get(2));
        assertTrue(sgd.scratchBytes().isEmpty() && unscale.scratchBytes().isEmpty(), "no scratch: nothing to allocate at call time");

        boolean[] none = new boolean[COUNTS.length];
        MultiTensorPlan frozen = MultiTensorPlan.of(entries(COUNTS, none, DECAYS));
        assertTrue(frozen.sgdChunks().isEmpty());
        assertEquals(List.of(), frozen.sgd(0.1f, 0.9f, 1e-4f).launches(), "nothing stepped: no sgd launch");
        assertEquals(1, frozen.unscale(1f).launches().size(), "every gradient is still unscaled");

        MultiTensorPlan empty = MultiTensorPlan.of(List.of());
        assertEquals(0, empty.tableBytes());
        assertEquals(List.of(), empty.sgd(0.1f, 0.9f, 0f).launches());
        assertEquals(List.of(), empty.unscale(1f).launches());
    }

    @Test
    void tableBytesFollowTheCStructLayout() {
        MultiTensorPlan p = plan();
        ByteBuffer t = p.table();
        assertEquals(ByteOrder.LITTLE_ENDIAN, t.order());
        assertEquals(0, t.position());
        assertEquals(p.tableBytes(), t.limit());
        int n = p.entries().size();
        assertEquals(roundUp(40L * n), p.sgdChunksOffset());
        assertEquals(p.sgdChunksOffset() + roundUp(16L * p.sgdChunks().size()), p.unscaleChunksOffset());
        assertEquals(p.unscaleChunksOffset() + roundUp(16L * p.unscaleChunks().size()), p.tableBytes());
        for (int w = 0; w < n; w++) {
            Entry e = p.entries().get(w);
            assertEquals(e.param(), t.getLong(40 * w), "param of " + w);
            assertEquals(e.grad(), t.getLong(40 * w + 8), "grad of " + w);
            assertEquals(e.velocity(), t.getLong(40 * w + 16), "velocity of " + w);
            assertEquals(e.count(), t.getLong(40 * w + 24), "count of " + w);
            assertEquals(e.decays() ? 1 : 0, t.getInt(40 * w + 32), "decays of " + w);
            assertEquals(0, t.getInt(40 * w + 36), "padding of " + w);
        }
        // little-endian: the low byte of weight 0's count first
        assertEquals(1, t.get(24));
        for (int[] section : new int[][]{{(int) p.sgdChunksOffset(), 0}, {(int) p.unscaleChunksOffset(), 1}}) {
            List<Chunk> chunks = section[1] == 0 ? p.sgdChunks() : p.unscaleChunks();
            for (int i = 0; i < chunks.size(); i++) {
                int at = section[0] + 16 * i;
                assertEquals(chunks.get(i).weight(), t.getInt(at));
                assertEquals(0, t.getInt(at + 4));
                assertEquals(chunks.get(i).start(), t.getLong(at + 8));
            }
        }
        assertTrue(p.table().equals(t), "the same bytes every time");
    }

    /** The constants mirror elementwise.cu's JX_MT_CHUNK and the static_asserts on JxWeight and JxChunk. */
    @Test
    void javaConstantsMatchTheKernelSource() throws IOException {
        String src = Files.readString(cudaDir().resolve("elementwise.cu"));
        Matcher chunk = Pattern.compile("#define JX_MT_CHUNK (\\d+)").matcher(src);
        assertTrue(chunk.find(), "JX_MT_CHUNK in elementwise.cu");
        assertEquals(MultiTensorPlan.CHUNK, Integer.parseInt(chunk.group(1)));
        Map<String, Integer> c = new HashMap<>();
        Matcher m = Pattern.compile("static_assert\\((?:sizeof\\((\\w+)\\)|offsetof\\((\\w+), (\\w+)\\)) == (\\d+)").matcher(src);
        while (m.find()) c.put(m.group(1) != null ? m.group(1) : m.group(2) + "." + m.group(3), Integer.parseInt(m.group(4)));
        Map<String, Integer> java = Map.of(
                "JxWeight", MultiTensorPlan.WEIGHT_BYTES, "JxWeight.param", MultiTensorPlan.WEIGHT_PARAM, "JxWeight.grad", MultiTensorPlan.WEIGHT_GRAD,
                "JxWeight.velocity", MultiTensorPlan.WEIGHT_VELOCITY, "JxWeight.count", MultiTensorPlan.WEIGHT_COUNT,
                "JxWeight.decays", MultiTensorPlan.WEIGHT_DECAYS, "JxChunk", MultiTensorPlan.CHUNK_BYTES,
                "JxChunk.weight", MultiTensorPlan.CHUNK_WEIGHT, "JxChunk.start", MultiTensorPlan.CHUNK_START);
        assertEquals(java, c);
        assertEquals(CudaLaunchPlan.THREADS * 32, MultiTensorPlan.CHUNK, "32 values per thread (elementwise.cu's reasoning)");
    }

    @Test
    void refusesOverlappingMisalignedOrMissingBuffers() {
        List<Entry> ok = entries(COUNTS, STEPPED, DECAYS);
        List<Entry> shared = new ArrayList<>(ok);
        Entry a = ok.get(2), b = ok.get(3);
        shared.set(3, new Entry(b.param(), a.grad(), b.velocity(), b.count(), b.decays()));   // two weights, one gradient
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MultiTensorPlan.of(shared));
        assertTrue(e.getMessage().contains("overlaps"), e.getMessage());
        List<Entry> inside = new ArrayList<>(ok);
        Entry big = ok.get(8);   // a long buffer that swallows a later, shorter one: not only neighbours are compared
        inside.set(0, new Entry(ok.get(0).param(), big.grad() + 4 * 1000, ok.get(0).velocity(), 1, true));
        assertThrows(IllegalArgumentException.class, () -> MultiTensorPlan.of(inside));
        Entry frozen = ok.get(1);   // a frozen weight's param is never touched: sharing it is harmless
        List<Entry> frozenParam = new ArrayList<>(ok);
        frozenParam.set(1, new Entry(a.param(), frozen.grad(), 0, 1, false));
        MultiTensorPlan.of(frozenParam);
        assertThrows(IllegalArgumentException.class, () -> new Entry(0x1002, 0x2000, 0, 1, false));
        assertThrows(IllegalArgumentException.class, () -> new Entry(0, 0x2000, 0, 1, false));
        assertThrows(IllegalArgumentException.class, () -> new Entry(0x1000, 0x2000, 0, 0, false));
    }

    /** Xception's 22.9M trainable values make a few thousand chunks: a few waves on every device (elementwise.cu). */
    @Test
    void chunkCountForXceptionIsAFewWaves() {
        long values = 0;
        List<Long> counts = new ArrayList<>();
        for (io.jxception.model.ParamSpec p : io.jxception.model.XceptionGraph.build(io.jxception.model.XceptionConfig.imagenet()).params()) {
            if (!p.trainable()) continue;
            counts.add(p.elements());
            values += p.elements();
        }
        long[] c = counts.stream().mapToLong(Long::longValue).toArray();
        boolean[] all = new boolean[c.length];
        java.util.Arrays.fill(all, true);
        MultiTensorPlan p = MultiTensorPlan.of(entries(c, all, all));
        assertTrue(values > 22_000_000 && values < 23_000_000, "Xception's trainable values: " + values);
        int blocks = p.sgdChunks().size();
        for (CudaLaunchPlan.Limits lim : List.of(CudaLaunchPlan.Limits.H100, CudaLaunchPlan.Limits.A100)) {
            double waves = blocks / (8.0 * lim.smCount());   // 8 resident 256-thread blocks per SM
            assertTrue(waves >= 2 && waves <= 5, blocks + " blocks = " + waves + " waves on " + lim);
        }
    }

    private static long roundUp(long b) { return (b + 255) / 256 * 256; }

    /** cuda/ from the working directory (the repository root under Maven) or above. */
    static Path cudaDir() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("cuda").resolve("elementwise.cu"))) return d.resolve("cuda");
        }
        throw new AssertionError("cuda/elementwise.cu not found above " + Path.of("").toAbsolutePath());
    }
}
