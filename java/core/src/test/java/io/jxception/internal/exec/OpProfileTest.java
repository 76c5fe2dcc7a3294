package io.jxception.internal.exec;

import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.train.KerasInit;
import io.jxception.model.ConvKind;
import io.jxception.model.Node;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OpProfileTest {
    @Test
    void aProfiledTrainingStepCountsEveryOpAndComputesTheSameStep() {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.tiny(71, 5));
        XceptionWeights w = KerasInit.fresh(g, 3);
        int batch = 2;
        Random r = new Random();
        float[] img = new float[batch * 71 * 71 * 3];
        for (int i = 0; i < img.length; i++) img[i] = (float) (r.nextDouble() * 2 - 1);
        Tensor x = new Tensor(Shape.of(batch, 71, 71, 3), img);
        int[] labels = {1, 4};
        OpProfile profile = new OpProfile();
        try (KernelBackend plain = KernelBackend.cpu(); KernelBackend cpu = KernelBackend.cpu(); KernelBackend timed = profile.wrap(cpu);
             TrainingSession a = new TrainingSession(plain, w, batch); TrainingSession b = new TrainingSession(timed, w, batch)) {
            assertEquals(a.forwardBackward(x, labels), b.forwardBackward(x, labels), "the wrapper changes nothing");
            b.sgdStep(0.01f, 0.9f, 1e-4f);
            a.sgdStep(0.01f, 0.9f, 1e-4f);
            Map<String, Tensor> wa = a.weights().asMap(), wb = b.weights().asMap();
            assertEquals(wa.keySet(), wb.keySet());
            for (String k : wa.keySet()) assertArrayEquals(wa.get(k).data(), wb.get(k).data(), k);
            Map<String, OpProfile.Entry> m = profile.byMethod().stream().collect(Collectors.toMap(OpProfile.Entry::key, e -> e));
            long convs = g.nodes().stream().filter(n -> n instanceof Node.Conv).count();
            long sepconvs = g.nodes().stream().filter(n -> n instanceof Node.Conv c && c.kind() == ConvKind.SEPARABLE3X3_SAME).count();
            assertEquals(convs, m.get("conv").calls(), "one forward conv per conv node");
            assertEquals(convs, m.get("convBackward").calls());
            assertEquals(convs, m.get("batchNormTrain").calls());
            assertEquals(1, m.get("headTrain").calls());
            long trainable = g.params().stream().filter(p -> p.trainable()).count();
            assertEquals(1, m.get("sgdUpdate").calls(), "one optimizer step over all weights");
            assertTrue(profile.entries().stream().anyMatch(e -> e.key().equals("sgdUpdate " + trainable + " weights")), "its key counts the weights");
            long sepKeys = profile.entries().stream().filter(e -> e.key().startsWith("convBackward SEPARABLE3X3_SAME")).mapToLong(OpProfile.Entry::calls).sum();
            assertEquals(sepconvs, sepKeys, "keys split by shape add up");
            assertTrue(profile.entries().stream().allMatch(e -> e.seconds() >= 0 && e.calls() > 0));
            assertTrue(m.get("convBackward").seconds() > 0);
            String table = profile.table(1, 5);
            assertTrue(table.contains("convBackward") && table.contains("total") && table.contains("%"), table);
            assertTrue(!table.contains("floor"), "no floor columns without peaks");

            // the floors: each op's cost summed over its calls; the whole-network GEMM FLOPs of the step
            double convFlops = g.nodes().stream().filter(n -> n instanceof Node.Conv).mapToDouble(n -> 2.0 * NodeSpecs.conv(g, (Node.Conv) n, batch).macs()).sum();
            assertEquals(convFlops, m.get("conv").flops(), 1e-6 * convFlops, "forward conv FLOPs: 2 per multiply-add of every conv");
            assertTrue(m.get("convBackward").flops() > 1.9 * convFlops && m.get("convBackward").flops() < 2.5 * convFlops,
                    "backward: data and weight gradients, the depthwise recomputed: " + m.get("convBackward").flops() / convFlops);
            assertTrue(m.get("batchNormTrain").bytes() > 0 && m.get("batchNormTrain").flops() == 0);
            assertEquals(5.0 * 4 * g.params().stream().filter(p -> p.trainable()).mapToLong(p -> p.shape().size()).sum(),
                    profile.entries().stream().filter(e -> e.key().startsWith("sgdUpdate")).findFirst().orElseThrow().bytes(), 1e-6,
                    "SGD moves 20 bytes per trainable parameter");
            OpProfile.Peaks peaks = new OpProfile.Peaks(100e9, 1e12, "test rates");
            String withFloors = profile.table(1, 5, peaks);
            assertTrue(withFloors.contains("floor ms") && withFloors.contains("test rates") && withFloors.contains("of floor"), withFloors);
            String totalLine = withFloors.lines().filter(l -> l.startsWith("total")).findFirst().orElseThrow();
            double sumOfFloors = profile.entries().stream().mapToDouble(e -> new OpCost(e.bytes(), e.flops()).floorSeconds(100e9, 1e12)).sum();
            assertTrue(totalLine.contains(String.format(java.util.Locale.ROOT, "%.3f", sumOfFloors * 1e3)), "the total floor is the sum of the ops' floors: " + totalLine);
            profile.reset();
            assertTrue(profile.entries().isEmpty());
        }
        assertThrows(IllegalArgumentException.class, () -> profile.table(0, 3));
        assertThrows(IllegalArgumentException.class, () -> new OpProfile.Peaks(0, 1e12, "zero bandwidth"));
    }

    /** The costs worked by hand for the middle flow's separable conv at batch 128 in BF16 (2-byte activations). */
    @Test
    void costsOfTheMiddleFlowSepconvAtBatch128() {
        io.jxception.internal.backend.ConvSpec s = new io.jxception.internal.backend.ConvSpec(ConvKind.SEPARABLE3X3_SAME, 128, 19, 19, 728, 728, 1, true);
        double m = 128 * 19 * 19, act = m * 728;   // 46,208 pixels, 33.6M values per tensor
        OpCost fwd = OpCost.of("conv", new Object[]{s, null, null, null, io.jxception.internal.backend.Epilogue.NONE, null}, 2);
        assertEquals(2 * (act + act) + 4 * (9 * 728 + 728 * 728), fwd.bytes(), 1e-6);
        assertEquals(2 * m * (9 * 728 + 728.0 * 728), fwd.flops(), 1e-6);
        OpCost bwd = OpCost.of("convBackward", new Object[]{s, null, null, null, null, new Object(), null, null}, 2);
        assertEquals(2 * (2 * act + act) + 8 * (9 * 728 + 728 * 728), bwd.bytes(), 1e-6, "x, dz in; dx out; weights in, gradients out");
        assertEquals(2 * (2 * m * 728 * 728 + 3 * 9 * m * 728), bwd.flops(), 1e-6, "dgrad + wgrad, depthwise recompute + weight + data gradients");
        OpCost noDx = OpCost.of("convBackward", new Object[]{s, null, null, null, null, null, null, null}, 2);
        assertEquals(2 * (2 * m * 728 * 728 + 2 * 9 * m * 728), noDx.flops(), 1e-6, "without dx: no depthwise data gradient (the pointwise one feeds dW1)");
        // at an H200's 4.8 TB/s and 989 TFLOP/s the backward is bound by its math: 98.9 GFLOP -> 0.1 ms
        assertEquals(bwd.flops() / 989e12, bwd.floorSeconds(4.8e12, 989e12), 1e-12);
        io.jxception.internal.backend.BatchNormSpec bn = new io.jxception.internal.backend.BatchNormSpec((long) m, 728, 1e-3, 0.99, true, false);
        OpCost bnb = OpCost.of("batchNormTrainBackward", new Object[]{bn, null, null, null, null, null, null, null, null, null, null}, 2);
        assertEquals(2 * act * 4, bnb.bytes(), 1e-6, "z, y (the ReLU mask), dy in; dz out");
        assertEquals(act * 8 / 4.8e12, bnb.floorSeconds(4.8e12, 989e12), 1e-15, "memory bound: 0.056 ms");
        assertEquals(null, OpCost.of("upload", new Object[]{}, 2), "host calls have no device floor");
    }
}
