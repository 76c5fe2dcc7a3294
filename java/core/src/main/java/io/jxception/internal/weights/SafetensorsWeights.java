package io.jxception.internal.weights;

import io.jxception.weights.WeightsFileException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file as {@link StoredWeights}: tensors named with Keras keys ("block1_conv1/kernel",
 * as {@link WeightsFiles#save} writes them; "layer/layer/kernel:0" paths are accepted too) in Keras
 * layouts, or with timm legacy_xception names in PyTorch layouts ({@link TimmNames}).
 * safetensors keeps no layer order, so generated layers are ordered by their number.
 */
public final class SafetensorsWeights {
    static final String FORMAT = "safetensors";

    private SafetensorsWeights() {}

    public static StoredWeights open(Path path) throws IOException {
        SafetensorsFile file = SafetensorsFile.open(path);
        try {
            List<String> names = file.entries().stream().map(SafetensorsHeader.Entry::name).toList();
            boolean timm = TimmNames.isTimm(names);
            List<StoredLayer> layers = timm ? TimmNames.toKeras(file) : kerasLayers(file);
            return new StoredWeights(path, timm ? FORMAT + " (timm legacy_xception names)" : FORMAT, layers,
                    StoredWeights.GeneratedOrder.NAME_NUMBER, file.metadata(), file);
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private static List<StoredLayer> kerasLayers(SafetensorsFile file) throws WeightsFileException {
        Map<String, List<StoredTensor>> layers = new LinkedHashMap<>();
        for (SafetensorsHeader.Entry e : file.entries()) {
            int slash = e.name().indexOf('/');
            if (slash <= 0) {
                throw new WeightsFileException(file.file(), "tensor '" + e.name() + "' is neither a Keras name (layer/weight,"
                        + " e.g. block1_conv1/kernel) nor a timm legacy_xception name (conv1.weight, block1.rep.0.conv1.weight, ...)");
            }
            if (!e.dtype().isFloatingPoint()) {
                throw new WeightsFileException(file.file(), "tensor '" + e.name() + "' is " + e.dtype() + "; weights must be F32, F16, BF16 or F64");
            }
            String layer = e.name().substring(0, slash);
            layers.computeIfAbsent(layer, l -> new ArrayList<>())
                    .add(new StoredTensor(layer, KerasNames.weightName(e.name()), e.name(), e.shape(), () -> file.readFloats(e)));
        }
        List<StoredLayer> out = new ArrayList<>();
        layers.forEach((name, weights) -> out.add(new StoredLayer(name, weights)));
        return out;
    }
}
