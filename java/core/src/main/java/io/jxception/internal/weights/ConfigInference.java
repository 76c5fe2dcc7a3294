package io.jxception.internal.weights;

import io.jxception.weights.WeightsFileException;
import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Shape;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The {@link XceptionConfig} a weights file fits, from names and shapes alone (no values are read):
 * <ul>
 *   <li>includeTop: a {@code predictions} layer is present; classes: the length of its bias;</li>
 *   <li>middleRepeats: the number of blocks with a third separable conv ({@code blockN_sepconv3}, only the
 *       middle flow has one), which must be blocks 5, 6, ... without gaps;</li>
 *   <li>widthMultiplier: the last feature map's channels / 2048 (block14_sepconv2's pointwise kernel),
 *       else block1_conv1's filters / 32; the first candidate whose graph matches every shape wins, so
 *       the result always loads.</li>
 * </ul>
 * The input size is not stored in weights files; the caller gives it. Pooling without the top comes
 * from the file's metadata when it has one (files this library writes), else Keras' default NONE.
 */
public final class ConfigInference {
    private ConfigInference() {}

    public static XceptionConfig infer(StoredWeights stored, int inputHeight, int inputWidth) throws WeightsFileException {
        KerasLayerMatcher.checkArchitecture(stored);
        StoredTensor predictionsBias = find(stored, KerasNames.PREDICTIONS, "bias");
        boolean includeTop = predictionsBias != null;
        int classes = ConfigMetadata.classes(stored.metadata()); // unused without the top
        if (includeTop) {
            Shape s = predictionsBias.shape();
            if (s.rank() != 1 || s.dim(0) < 1) throw new WeightsFileException(stored.file(), "predictions/bias has shape " + s + ", expected (classes,)");
            classes = s.dim(0);
        }
        int middleRepeats = middleRepeats(stored);
        Pooling pooling = includeTop ? Pooling.NONE : ConfigMetadata.pooling(stored.metadata());

        // Throws IllegalArgumentException for an input below 71x71: the caller's mistake, not the file's.
        XceptionConfig base = new XceptionConfig(inputHeight, inputWidth, classes, includeTop, pooling, 1.0, middleRepeats);
        List<Double> widths = widthCandidates(stored);
        WeightsFileException first = null;
        for (double width : widths) {
            XceptionConfig config = new XceptionConfig(base.inputHeight(), base.inputWidth(), classes, includeTop, pooling, width, middleRepeats);
            try {
                KerasLayerMatcher.match(stored, XceptionGraph.build(config));
                return config;
            } catch (WeightsFileException e) {
                if (first == null) first = e;
            }
        }
        if (first != null) { // widths is never empty, so first is set
            throw new WeightsFileException(stored.file(), "no Xception configuration fits this file (tried width multipliers "
                    + widths + ", " + middleRepeats + " middle blocks, " + (includeTop ? classes + " classes" : "no top")
                    + "); with the closest: " + first.reason(), first);
        }
        throw new IllegalStateException("no width candidates");
    }

    private static int middleRepeats(StoredWeights stored) throws WeightsFileException {
        Set<Integer> blocks = new TreeSet<>();
        for (StoredLayer l : stored.layers()) {
            int b = KerasNames.middleBlock(l.name());
            if (b >= 0) blocks.add(b);
        }
        int expected = 5;
        for (int b : blocks) {
            if (b != expected) {
                throw new WeightsFileException(stored.file(), "middle-flow blocks " + blocks + " are not numbered 5, 6, ... without gaps,"
                        + " as keras.applications.Xception numbers them: the file is damaged or not from Keras' Xception");
            }
            expected++;
        }
        return blocks.size();
    }

    private static List<Double> widthCandidates(StoredWeights stored) throws WeightsFileException {
        Set<Double> out = new LinkedHashSet<>();
        StoredTensor last = find(stored, "block14_sepconv2", "pointwise_kernel");
        if (last != null && last.shape().rank() == 4) out.add(last.shape().dim(3) / 2048.0);
        StoredTensor stem = find(stored, "block1_conv1", "kernel");
        if (stem != null && stem.shape().rank() == 4) out.add(stem.shape().dim(3) / 32.0);
        out.removeIf(w -> !(w > 0) || w > 8);
        if (out.isEmpty()) {
            throw new WeightsFileException(stored.file(), "has neither block14_sepconv2/pointwise_kernel nor block1_conv1/kernel"
                    + " of rank 4: cannot tell the network's width");
        }
        return new ArrayList<>(out);
    }

    private static StoredTensor find(StoredWeights stored, String layer, String weight) {
        for (StoredLayer l : stored.layers()) {
            if (!l.name().equals(layer)) continue;
            for (StoredTensor t : l.weights()) if (t.weight().equals(weight)) return t;
        }
        return null;
    }
}
