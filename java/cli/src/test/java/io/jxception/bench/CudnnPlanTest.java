package io.jxception.bench;

import io.jxception.internal.json.Json;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/** The cuDNN calls the JVM per-layer peer makes for each fused launch: shapes, paddings, counts, FLOPs. */
class CudnnPlanTest {
    private static final XceptionGraph FULL = BenchSuite.graph(299);

    private static Map<String, CudnnPlan> byNode(List<CudnnPlan> plans) {
        return plans.stream().collect(Collectors.toMap(CudnnPlan::node, p -> p));
    }

    private static <T extends CudnnPlan.Step> List<T> steps(CudnnPlan p, Class<T> kind) {
        return p.steps().stream().filter(kind::isInstance).map(kind::cast).toList();
    }

    private static List<Integer> shape(CudnnPlan.Buffer b) {
        return List.of(b.n(), b.c(), b.h(), b.w());
    }

    @Test
    void samePaddingOfStride2PoolsIsTensorFlowsOneOnOddSizesAndOnlyTheFarSideOnEven() {
        for (int h = 1; h <= 300; h++) {
            int total = Math.max(((h + 1) / 2 - 1) * 2 + 3 - h, 0); // max((ceil(H/s) - 1) * s + 3 - H, 0)
            int[] pad = CudnnPlan.samePadding(h, 3, 2);
            assertEquals(total / 2, pad[0], "before, H = " + h);
            assertEquals(total - total / 2, pad[1], "after, H = " + h);
        }
        assertArrayEquals(new int[]{1, 1}, CudnnPlan.samePadding(147, 3, 2));
        assertArrayEquals(new int[]{0, 1}, CudnnPlan.samePadding(74, 3, 2));
        assertArrayEquals(new int[]{1, 1}, CudnnPlan.samePadding(19, 3, 1), "depthwise 3x3 'same' at stride 1");
        assertArrayEquals(new int[]{0, 0}, CudnnPlan.samePadding(147, 1, 2), "1x1 stride 2 pads nothing");
    }

    @Test
    void every299LaunchIsPlannedFromTheGeometryTheTorchPeerGets() {
        List<CudnnPlan> plans = CudnnPlan.of(FULL, 2);
        assertEquals(FULL.nodes().size(), plans.size());
        assertEquals(45, plans.size());
        List<?> request = (List<?>) Json.parseObject(LayerPeerRunner.request(FULL, 2, List.of("fp32"), 1, 1)).get("layers");
        for (int i = 0; i < plans.size(); i++) {
            Map<?, ?> g = (Map<?, ?>) request.get(i);
            CudnnPlan p = plans.get(i);
            assertEquals(i, p.index());
            assertEquals(g.get("node"), p.node());
            assertEquals(g.get("kernel"), p.kernel().kernelName());
            CudnnPlan.Buffer x = p.buffers().get(0);
            assertEquals("x", x.name());
            assertEquals(2, x.n());
            int channels = (int) Json.number(g.containsKey("cin") ? g.get("cin") : g.containsKey("c") ? g.get("c") : g.get("channels"));
            assertEquals(channels, x.c(), p.node());
            if (p.kernel() != Kernel.MAXPOOL_ADD) { // a pool's input carries TensorFlow's far-side padding
                assertEquals((int) Json.number(g.get("h")), x.h(), p.node());
                assertEquals((int) Json.number(g.get("w")), x.w(), p.node());
            }
            if (g.containsKey("cout")) {
                CudnnPlan.Buffer y = p.buffers().stream().filter(b -> b.name().equals("y")).findFirst().orElseThrow();
                assertEquals((int) Json.number(g.get("cout")), y.c(), p.node());
                assertEquals(Boolean.TRUE.equals(g.get("residual")), !steps(p, CudnnPlan.Add.class).isEmpty(), p.node());
                assertEquals(Boolean.TRUE.equals(g.get("pre_relu")), p.steps().get(0) instanceof CudnnPlan.Relu, p.node());
                assertEquals(Boolean.TRUE.equals(g.get("post_relu")), p.steps().get(p.steps().size() - 1) instanceof CudnnPlan.Relu, p.node());
            }
        }
        // the middle flow's 24 launches come to 2 geometries (without and with the residual add), block13_sepconv1 shares the first
        assertEquals(2, plans.stream().filter(p -> p.node().matches("block([5-9]|1[0-2])_sepconv\\d|block13_sepconv1")).map(CudnnPlan::geometry).distinct().count());
        assertEquals(45 - 25 + 2, plans.stream().map(CudnnPlan::geometry).distinct().count());
    }

    @Test
    void stemConvsAreValid3x3WithBatchNormAndRelu() {
        Map<String, CudnnPlan> p = byNode(CudnnPlan.of(FULL, 1));
        CudnnPlan conv1 = p.get("block1_conv1");
        assertEquals("conv 3x3/2 'valid', batch_norm, relu", conv1.ops());
        CudnnPlan.Convolution c = steps(conv1, CudnnPlan.Convolution.class).get(0);
        assertEquals(List.of(1, 3, 299, 299), shape(c.in()));
        assertEquals(List.of(32, 3, 3, 3), shape(c.filter()));
        assertEquals(List.of(1, 32, 149, 149), shape(c.out()));
        assertEquals(0, c.pad());
        assertEquals(2, c.stride());
        assertEquals(1, c.groups());
        assertEquals(2L * 32 * 149 * 149 * 3 * 9, c.flops());
        CudnnPlan.BatchNorm bn = steps(conv1, CudnnPlan.BatchNorm.class).get(0);
        assertSame(c.out(), bn.in(), "batch norm reads the convolution's output");
        assertEquals(List.of(1, 32, 1, 1), shape(bn.params()));
        CudnnPlan.Relu relu = steps(conv1, CudnnPlan.Relu.class).get(0);
        assertSame(bn.out(), relu.in());
        assertSame(relu.in(), relu.out(), "the closing ReLU is in place");
        CudnnPlan.Convolution c2 = steps(p.get("block1_conv2"), CudnnPlan.Convolution.class).get(0);
        assertEquals(List.of(1, 64, 147, 147), shape(c2.out()));
        assertEquals(1, c2.stride());
    }

    @Test
    void separableIsDepthwiseGroupedConvThenPointwiseWithOptionalReluResidualAndRelu() {
        Map<String, CudnnPlan> p = byNode(CudnnPlan.of(FULL, 4));
        CudnnPlan first = p.get("block2_sepconv1");
        assertEquals("conv 3x3 depthwise 'same', conv 1x1, batch_norm", first.ops());
        List<CudnnPlan.Convolution> convs = steps(first, CudnnPlan.Convolution.class);
        CudnnPlan.Convolution dw = convs.get(0), pw = convs.get(1);
        assertEquals(64, dw.groups(), "group count = channels");
        assertEquals(List.of(64, 1, 3, 3), shape(dw.filter()));
        assertEquals(1, dw.pad());
        assertEquals(1, dw.stride());
        assertEquals(List.of(4, 64, 147, 147), shape(dw.out()));
        assertSame(dw.out(), pw.in());
        assertEquals(List.of(128, 64, 1, 1), shape(pw.filter()));
        assertEquals(0, pw.pad());
        assertEquals(List.of(4, 128, 147, 147), shape(pw.out()));
        assertEquals(2L * 4 * 147 * 147 * 64 * 9, dw.flops());
        assertEquals(2L * 4 * 147 * 147 * 128 * 64, pw.flops());

        CudnnPlan pre = p.get("block2_sepconv2");
        assertEquals("relu, conv 3x3 depthwise 'same', conv 1x1, batch_norm", pre.ops());
        CudnnPlan.Relu relu = steps(pre, CudnnPlan.Relu.class).get(0);
        assertNotSame(relu.in(), relu.out(), "the opening ReLU keeps the input for the next iteration");
        assertSame(relu.out(), steps(pre, CudnnPlan.Convolution.class).get(0).in());

        CudnnPlan residual = p.get("block5_sepconv3");
        assertEquals("relu, conv 3x3 depthwise 'same', conv 1x1, batch_norm, add", residual.ops());
        CudnnPlan.Add add = steps(residual, CudnnPlan.Add.class).get(0);
        assertEquals(List.of(4, 728, 19, 19), shape(add.from()));
        assertSame(steps(residual, CudnnPlan.BatchNorm.class).get(0).out(), add.into());

        assertEquals("conv 3x3 depthwise 'same', conv 1x1, batch_norm, relu", p.get("block14_sepconv2").ops());
        assertEquals(List.of(4, 2048, 10, 10), shape(steps(p.get("block14_sepconv2"), CudnnPlan.Convolution.class).get(1).out()));
    }

    @Test
    void residualConvsAre1x1Stride2WithoutPaddingAndMatchTheirPoolsOutput() {
        Map<String, CudnnPlan> p = byNode(CudnnPlan.of(FULL, 1));
        List<String> residual = List.of("conv2d", "conv2d_1", "conv2d_2", "conv2d_3"), pools = List.of("block2_pool", "block3_pool", "block4_pool", "block13_pool");
        List<Integer> sizes = List.of(74, 37, 19, 10);
        for (int i = 0; i < residual.size(); i++) {
            CudnnPlan r = p.get(residual.get(i));
            assertEquals("conv 1x1/2, batch_norm", r.ops());
            CudnnPlan.Convolution c = steps(r, CudnnPlan.Convolution.class).get(0);
            assertEquals(0, c.pad());
            assertEquals(2, c.stride());
            assertEquals(sizes.get(i), c.out().h());
            assertEquals(sizes.get(i), c.out().w());
            CudnnPlan.Pooling pool = steps(p.get(pools.get(i)), CudnnPlan.Pooling.class).get(0);
            CudnnPlan.Add add = steps(p.get(pools.get(i)), CudnnPlan.Add.class).get(0);
            assertEquals(shape(c.out()), shape(pool.out()), pools.get(i) + " adds " + residual.get(i) + "'s output");
            assertEquals(shape(pool.out()), shape(add.from()));
        }
    }

    @Test
    void poolsPadLikeTensorFlowWithTheFarSideRowAllocated() {
        Map<String, CudnnPlan> p = byNode(CudnnPlan.of(FULL, 1));
        // input size -> cuDNN padding, allocated input rows, output size
        Map<String, int[]> expected = Map.of("block2_pool", new int[]{147, 1, 147, 74}, "block3_pool", new int[]{74, 0, 75, 37},
                "block4_pool", new int[]{37, 1, 37, 19}, "block13_pool", new int[]{19, 1, 19, 10});
        expected.forEach((node, e) -> {
            CudnnPlan plan = p.get(node);
            assertEquals("max pool 3x3/2 'same', add", plan.ops());
            assertTrue(plan.geometry().contains(" h=" + e[0] + " "), plan.geometry());
            CudnnPlan.Pooling pool = steps(plan, CudnnPlan.Pooling.class).get(0);
            assertTrue(pool.max());
            assertEquals(3, pool.windowH());
            assertEquals(2, pool.stride());
            assertEquals(e[1], pool.pad(), node);
            assertEquals(e[2], pool.in().h(), node);
            assertEquals(e[2], pool.in().w(), node);
            assertEquals(e[3], pool.out().h(), node);
            // cuDNN's output size from its padding matches TensorFlow's ceil(H / 2)
            assertEquals((e[0] + 1) / 2, CudnnPlan.outputSize(pool.in().h(), 3, pool.pad(), 2), node);
        });
    }

    @Test
    void headIsGlobalAveragePoolDenseAsA1x1ConvBiasAndSoftmax() {
        CudnnPlan head = byNode(CudnnPlan.of(FULL, 8)).get("predictions");
        assertEquals("average pool 10x10, conv 1x1 (dense), add bias, softmax", head.ops());
        CudnnPlan.Pooling pool = steps(head, CudnnPlan.Pooling.class).get(0);
        assertFalse(pool.max());
        assertEquals(List.of(8, 2048, 1, 1), shape(pool.out()));
        CudnnPlan.Convolution dense = steps(head, CudnnPlan.Convolution.class).get(0);
        assertEquals(List.of(1000, 2048, 1, 1), shape(dense.filter()));
        assertEquals(2L * 8 * 1000 * 2048, dense.flops());
        assertEquals(List.of(1, 1000, 1, 1), shape(steps(head, CudnnPlan.Add.class).get(0).from()));
        assertSame(dense.out(), steps(head, CudnnPlan.Softmax.class).get(0).tensor());

        XceptionGraph features = XceptionGraph.build(XceptionConfig.imagenet().withoutTop(io.jxception.model.Pooling.MAX));
        List<CudnnPlan> plans = CudnnPlan.of(features, 1);
        assertEquals("max pool 10x10", plans.get(plans.size() - 1).ops());
    }

    @Test
    void theConvolutionFlopsAddUpToTheNetworks() {
        // 2 x 8.36 GMACs per 299x299 image (Keras' Xception), nearly all in convolutions; pools, BN and adds are the rest
        List<CudnnPlan> plans = CudnnPlan.of(FULL, 1);
        long convFlops = plans.stream().flatMap(p -> p.steps().stream()).filter(s -> s instanceof CudnnPlan.Convolution).mapToLong(CudnnPlan.Step::flops).sum();
        assertEquals(16.715e9, convFlops, 0.01 * 16.715e9);
        assertEquals(2 * convFlops, CudnnPlan.of(FULL, 2).stream().flatMap(p -> p.steps().stream())
                .filter(s -> s instanceof CudnnPlan.Convolution).mapToLong(CudnnPlan.Step::flops).sum(), "linear in the batch");
        // bytes: block2_sepconv1 reads x, both filters and writes d, z (convs), reads z writes y (BN)
        CudnnPlan sep = plans.get(2);
        long x = 64L * 147 * 147, d = x, z = 128L * 147 * 147;
        assertEquals((x + 64 * 9 + d) + (d + 128 * 64 + z) + 2 * z, sep.elementsMoved());
    }

    @Test
    void aReducedWidthGraphPlansTheSameCallsWithItsChannels() {
        XceptionGraph tiny = XceptionGraph.build(XceptionConfig.tiny(71, 10));
        List<CudnnPlan> plans = CudnnPlan.of(tiny, 3);
        List<CudnnPlan> full = CudnnPlan.of(BenchSuite.graph(71), 3);
        assertEquals(full.size(), plans.size());
        for (int i = 0; i < plans.size(); i++) {
            assertEquals(full.get(i).node(), plans.get(i).node());
            assertEquals(full.get(i).steps().size(), plans.get(i).steps().size(), full.get(i).node());
        }
        Map<String, CudnnPlan> p = byNode(plans);
        CudnnPlan.Convolution dw = steps(p.get("block5_sepconv1"), CudnnPlan.Convolution.class).get(0);
        assertEquals(46, dw.groups(), "728 / 16 channels, rounded");
        // 71 -> 35 -> 33 -> pools to 17 (odd: 1 + 1), 9 (odd), 5 (odd), 3 (odd)
        assertEquals(List.of(33, 17, 9, 5), plans.stream().filter(x -> x.kernel() == Kernel.MAXPOOL_ADD)
                .map(x -> steps(x, CudnnPlan.Pooling.class).get(0).in().h()).toList());
        assertTrue(plans.stream().filter(x -> x.kernel() == Kernel.MAXPOOL_ADD).allMatch(x -> steps(x, CudnnPlan.Pooling.class).get(0).pad() == 1));
        assertEquals("average pool 3x3, conv 1x1 (dense), add bias, softmax", plans.get(plans.size() - 1).ops());
        assertEquals(List.of(10, 128, 1, 1), shape(steps(plans.get(plans.size() - 1), CudnnPlan.Convolution.class).get(0).filter()));
        // an even pool input at another size: 100 -> 49 -> 47 -> block2_pool -> 24 into block3_pool
        CudnnPlan block3 = byNode(CudnnPlan.of(XceptionGraph.build(XceptionConfig.tiny(100, 10)), 1)).get("block3_pool");
        CudnnPlan.Pooling even = steps(block3, CudnnPlan.Pooling.class).get(0);
        assertEquals(0, even.pad());
        assertEquals(25, even.in().h(), "24 rows + the far-side padding row");
        assertEquals(12, even.out().h());
    }
}
