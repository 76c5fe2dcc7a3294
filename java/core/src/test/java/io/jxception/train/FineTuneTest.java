package io.jxception.train;

import io.jxception.internal.train.FineTuning;
import io.jxception.model.ParamSpec;
import io.jxception.model.Pooling;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Tensor;
import io.jxception.weights.WeightsFiles;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class FineTuneTest {
    static final Path TINY_NOTOP = Path.of("weights/fixtures/h5/xception_tiny_notop.h5");
    static final Path TINY_TOP = Path.of("weights/fixtures/h5/xception_tiny_top.h5");

    /**
     * From a Keras .h5 without the top: the base comes from the file, a new 10-class classifier is
     * added, and with everything below block14_sepconv1 frozen only block 14 and the classifier
     * change, while the frozen batch norms still update their moving statistics.
     */
    @Test
    void fineTunesANoTopKerasFileWithTheLowerLayersFrozen(@TempDir Path out) throws IOException {
        TrainOptions o = Runs.small(out).initialWeights(TINY_NOTOP).freezeBelow("block14_sepconv1").maxSteps(3).build();
        Trainer.Result r = Runs.train(o, null);
        XceptionGraph graph = r.weights().graph();
        assertEquals(10, graph.config().classes());
        assertEquals(1.0 / 16, graph.config().widthMultiplier());
        assertEquals(8, graph.config().middleRepeats(), "width and depth come from the file, not the options");
        XceptionWeights file = WeightsFiles.load(TINY_NOTOP, XceptionGraph.build(graph.config().withoutTop(Pooling.NONE)));
        Set<String> frozen = FineTuning.layersBelow(graph, "block14_sepconv1");
        assertTrue(frozen.contains("block13_sepconv2_bn") && frozen.contains("conv2d_3") && !frozen.contains("block14_sepconv1_bn"));
        int movingChanged = 0;
        for (ParamSpec p : graph.params()) {
            if (p.layer().equals("predictions")) continue;
            boolean same = Arrays.equals(file.get(p.key()).data(), r.weights().get(p.key()).data());
            if (frozen.contains(p.layer()) && p.trainable()) assertTrue(same, p.key() + " is frozen but changed");
            if (!frozen.contains(p.layer()) && p.trainable()) assertFalse(same, p.key() + " is trainable but did not change");
            if (frozen.contains(p.layer()) && !p.trainable() && !same) movingChanged++;
        }
        assertTrue(movingChanged > 0, "frozen batch norms still update moving statistics in training mode");
        Tensor kernel = r.weights().get("predictions/kernel");
        assertArrayEquals(new int[]{128, 10}, kernel.shape().dims());
    }

    /** A file whose top already has the data's 10 classes keeps it; freezing below the top trains the classifier alone. */
    @Test
    void keepsAMatchingTopAndTrainsOnlyTheClassifier(@TempDir Path out) throws IOException {
        TrainOptions o = Runs.small(out).initialWeights(TINY_TOP).freezeBelow("predictions").maxSteps(2).build();
        Trainer.Result r = Runs.train(o, null);
        XceptionWeights file = WeightsFiles.load(TINY_TOP, r.weights().graph());
        for (ParamSpec p : r.weights().graph().params()) {
            boolean same = Arrays.equals(file.get(p.key()).data(), r.weights().get(p.key()).data());
            if (p.layer().equals("predictions")) assertFalse(same, p.key() + " should have trained");
            else if (p.trainable()) assertTrue(same, p.key() + " is frozen but changed");
        }
    }

    @Test
    void unknownFreezeLayerListsTheLayers(@TempDir Path out) {
        TrainOptions o = Runs.small(out).freezeBelow("block99_sepconv1").maxSteps(1).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Runs.train(o, null));
        assertTrue(e.getMessage().startsWith("no layer named 'block99_sepconv1' to freeze below; layers are block1_conv1, block1_conv1_bn,"), e.getMessage());
    }
}
