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
            profile.reset();
            assertTrue(profile.entries().isEmpty());
        }
        assertThrows(IllegalArgumentException.class, () -> profile.table(0, 3));
    }
}
