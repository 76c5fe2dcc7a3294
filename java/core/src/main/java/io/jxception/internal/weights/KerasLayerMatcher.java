package io.jxception.internal.weights;

import io.jxception.weights.WeightsFileException;
import io.jxception.model.ParamSpec;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Assigns each weight of an {@link XceptionGraph} the stored tensor that Keras would load into it.
 *
 * <p>Named layers match by name. The residual branches' layers have generated names whose numbers
 * depend on how many models the saving session had built before (conv2d_4.. for the second), so
 * they match by order, as Keras' own loader does: the k-th generated conv layer of the file is the
 * graph's k-th residual conv (conv2d, conv2d_1, conv2d_2, conv2d_3), likewise the batch norms.
 * Within a layer weights match by name (kernel, gamma, ...), or by position where a file uses other
 * weight names. Every shape is checked before any value is read.
 */
public final class KerasLayerMatcher {
    private KerasLayerMatcher() {}

    /** Fails with "does not look like an Xception weights file" when most layers have foreign names. */
    static void checkArchitecture(StoredWeights stored) throws WeightsFileException {
        List<String> names = stored.layers().stream().map(StoredLayer::name).toList();
        long xception = names.stream().filter(KerasNames::isXceptionLayer).count();
        boolean hasStem = names.contains("block1_conv1");
        if (names.isEmpty() || !hasStem || xception * 2 < names.size()) {
            throw new WeightsFileException(stored.file(), "does not look like an Xception weights file: its layers with weights are "
                    + (names.isEmpty() ? "none" : KerasH5Reader.preview(names))
                    + " (Xception's are block1_conv1, block1_conv1_bn, block1_conv2, ..., block14_sepconv2_bn, predictions)");
        }
    }

    /** Keras key of the graph ("conv2d_1/kernel") → stored tensor, shapes checked. */
    public static Map<String, StoredTensor> match(StoredWeights stored, XceptionGraph graph) throws WeightsFileException {
        checkArchitecture(stored);
        Map<String, List<ParamSpec>> graphLayers = new LinkedHashMap<>();
        for (ParamSpec p : graph.params()) graphLayers.computeIfAbsent(p.layer(), k -> new ArrayList<>()).add(p);
        Map<String, StoredLayer> assigned = assignLayers(stored, graph, graphLayers);
        Map<String, StoredTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, List<ParamSpec>> e : graphLayers.entrySet()) {
            StoredLayer layer = assigned.get(e.getKey());
            List<ParamSpec> specs = e.getValue();
            List<StoredTensor> tensors = matchWeights(stored, layer, e.getKey(), specs);
            for (int i = 0; i < specs.size(); i++) {
                ParamSpec p = specs.get(i);
                StoredTensor t = tensors.get(i);
                if (!t.shape().equals(p.shape())) {
                    throw new WeightsFileException(stored.file(), "weight " + p.key() + " (" + t.source() + describeMatch(layer, e.getKey())
                            + ") has shape " + t.shape() + ", expected " + p.shape() + " for " + describe(graph.config())
                            + ": the file is for another configuration or its tensors are misplaced or transposed;"
                            + " WeightsFiles.inferConfig builds the configuration a file fits");
                }
                out.put(p.key(), t);
            }
        }
        return out;
    }

    /** Graph layer name → file layer; fails listing missing and unexpected layers. */
    private static Map<String, StoredLayer> assignLayers(StoredWeights stored, XceptionGraph graph,
                                                         Map<String, List<ParamSpec>> graphLayers) throws WeightsFileException {
        Map<String, StoredLayer> byName = new LinkedHashMap<>();
        Map<String, List<StoredLayer>> generated = new LinkedHashMap<>();
        for (StoredLayer l : stored.layers()) {
            String kind = KerasNames.generatedKind(l.name());
            if (kind != null) generated.computeIfAbsent(kind, k -> new ArrayList<>()).add(l);
            else if (byName.put(l.name(), l) != null) {
                throw new WeightsFileException(stored.file(), "layer " + l.name() + " appears twice: the file is damaged");
            }
        }
        if (stored.generatedOrder() == StoredWeights.GeneratedOrder.NAME_NUMBER) {
            for (List<StoredLayer> list : generated.values()) list.sort(Comparator.comparingLong(l -> KerasNames.generatedNumber(l.name())));
        }
        boolean graphHasTop = graphLayers.containsKey(KerasNames.PREDICTIONS);
        if (!graphHasTop) byName.remove(KerasNames.PREDICTIONS); // features only: the classifier is not needed

        Map<String, StoredLayer> assigned = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        Map<String, Integer> generatedSeen = new LinkedHashMap<>();
        for (String layer : graphLayers.keySet()) {
            String kind = KerasNames.generatedKind(layer);
            StoredLayer found;
            if (kind != null) {
                int k = generatedSeen.merge(kind, 1, Integer::sum) - 1;
                List<StoredLayer> list = generated.getOrDefault(kind, List.of());
                found = k < list.size() ? list.get(k) : null;
            } else {
                found = byName.remove(layer);
            }
            if (found == null) missing.add(layer);
            else assigned.put(layer, found);
        }
        List<String> unexpected = new ArrayList<>(byName.keySet());
        for (Map.Entry<String, List<StoredLayer>> e : generated.entrySet()) {
            int used = generatedSeen.getOrDefault(e.getKey(), 0);
            for (int i = used; i < e.getValue().size(); i++) unexpected.add(e.getValue().get(i).name());
        }
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            int fileCount = stored.layers().size() - (graphHasTop || !hasLayer(stored, KerasNames.PREDICTIONS) ? 0 : 1);
            StringBuilder sb = new StringBuilder("weights file has " + fileCount + " layers with weights, expected "
                    + graphLayers.size() + " for " + describe(graph.config()));
            if (!missing.isEmpty()) sb.append("; missing: ").append(KerasH5Reader.preview(missing));
            if (!unexpected.isEmpty()) sb.append("; not in this Xception: ").append(KerasH5Reader.preview(unexpected));
            sb.append(". Is it a weights file of another configuration? WeightsFiles.inferConfig builds the one it fits");
            throw new WeightsFileException(stored.file(), sb.toString());
        }
        return assigned;
    }

    private static boolean hasLayer(StoredWeights stored, String name) {
        return stored.layers().stream().anyMatch(l -> l.name().equals(name));
    }

    /** The stored tensors of one layer in the order of the graph's weights. */
    private static List<StoredTensor> matchWeights(StoredWeights stored, StoredLayer layer, String graphLayer,
                                                   List<ParamSpec> specs) throws WeightsFileException {
        List<StoredTensor> have = layer.weights();
        List<String> haveNames = have.stream().map(StoredTensor::weight).toList();
        List<String> wantNames = specs.stream().map(ParamSpec::weight).toList();
        if (have.size() != specs.size()) {
            throw new WeightsFileException(stored.file(), "layer " + layer.name() + describeMatch(layer, graphLayer) + " has weights "
                    + haveNames + ", expected " + wantNames + " (use_bias or layer type differs from Xception)");
        }
        List<StoredTensor> out = new ArrayList<>();
        boolean byName = haveNames.containsAll(wantNames) && haveNames.stream().distinct().count() == haveNames.size();
        for (int i = 0; i < specs.size(); i++) {
            out.add(byName ? have.get(haveNames.indexOf(wantNames.get(i))) : have.get(i));
        }
        return out;
    }

    private static String describeMatch(StoredLayer layer, String graphLayer) {
        return layer.name().equals(graphLayer) ? "" : ", matched by order to " + graphLayer;
    }

    /** "Xception width 0.0625, 8 middle blocks, top with 10 classes". */
    static String describe(XceptionConfig c) {
        return "Xception width " + c.widthMultiplier() + ", " + c.middleRepeats() + " middle blocks, "
                + (c.includeTop() ? "top with " + c.classes() + " classes" : "no top");
    }
}
