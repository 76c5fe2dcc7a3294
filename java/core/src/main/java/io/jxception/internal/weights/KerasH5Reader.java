package io.jxception.internal.weights;

import io.jxception.weights.WeightsFileException;
import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import io.jhdf.api.dataset.ContiguousDataset;
import io.jxception.internal.text.Printable;
import io.jxception.tensor.Shape;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Keras 2 HDF5 weights files, as {@code model.save_weights('x.h5')} and keras.applications write them:
 * the root (or the {@code model_weights} group of a whole-model file) has the attribute
 * {@code layer_names} (byte strings, in the model's topological order; split into layer_names0,
 * layer_names1, ... when long); each layer is a group with the attribute {@code weight_names}
 * ("block1_conv1/kernel:0"; empty for layers without weights), and each weight is the dataset
 * {@code <layer>/<weight name>}. Kernels are already in Keras layouts.
 *
 * <p>Everything jhdf may throw on a damaged file is turned into a {@link WeightsFileException}.
 */
public final class KerasH5Reader {
    static final String FORMAT = "Keras HDF5";

    private KerasH5Reader() {}

    /** Opens the file and lists its layers; values are read when a {@link StoredTensor} is read. */
    public static StoredWeights open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new WeightsFileException(file, "no such file (" + file.toAbsolutePath() + ")");
        long fileBytes = Files.size(file);
        HdfFile hdf;
        try {
            hdf = new HdfFile(file);
        } catch (RuntimeException e) {
            throw corrupt(file, e);
        }
        try {
            checkNotTruncated(file, hdf, fileBytes);
            Group root = weightsGroup(file, hdf);
            Map<String, String> metadata = new LinkedHashMap<>();
            for (String key : new String[]{"backend", "keras_version"}) {
                Attribute a = hdf.getAttribute(key);
                if (a != null && a.getData() instanceof String s) metadata.put(key, s);
            }
            List<StoredLayer> layers = new ArrayList<>();
            for (String name : strings(file, root, "layer_names", "the file")) {
                List<StoredTensor> weights = layerWeights(file, root, name);
                if (!weights.isEmpty()) layers.add(new StoredLayer(name, weights));
            }
            return new StoredWeights(file, FORMAT, layers, StoredWeights.GeneratedOrder.FILE_ORDER, metadata, hdf::close);
        } catch (RuntimeException e) {
            hdf.close();
            throw corrupt(file, e);
        } catch (IOException e) {
            hdf.close();
            throw e;
        }
    }

    /** HDF5's superblock records the end-of-file address: a shorter file was cut off. */
    private static void checkNotTruncated(Path file, HdfFile hdf, long fileBytes) throws WeightsFileException {
        long end = hdf.getUserBlockSize() + hdf.getHdfBackingStorage().getSuperblock().getEndOfFileAddress();
        if (end > fileBytes) {
            throw new WeightsFileException(file, "is truncated: its HDF5 header says " + end + " bytes, the file has "
                    + fileBytes + " (an interrupted download or copy? fetch it again)");
        }
    }

    private static Group weightsGroup(Path file, HdfFile hdf) throws WeightsFileException {
        if (hasAttribute(hdf, "layer_names")) return hdf;
        Node modelWeights = hdf.getChildren().get("model_weights");
        if (modelWeights instanceof Group g && hasAttribute(g, "layer_names")) return g;
        throw new WeightsFileException(file, "is HDF5 but not a Keras weights file: it has no 'layer_names' attribute"
                + " (top-level entries: " + preview(new ArrayList<>(hdf.getChildren().keySet())) + ")."
                + " Keras 3 '.weights.h5' files are not supported; save with the Keras 2 layout or as safetensors");
    }

    private static boolean hasAttribute(Node node, String name) {
        Map<String, Attribute> attrs = node.getAttributes();
        return attrs.containsKey(name) || attrs.containsKey(name + "0");
    }

    private static List<StoredTensor> layerWeights(Path file, Group root, String layer) throws WeightsFileException {
        Node node = root.getChildren().get(layer);
        if (!(node instanceof Group group)) {
            throw new WeightsFileException(file, "layer_names lists '" + printable(layer) + "' but the file has no group of that name: the file is damaged");
        }
        List<StoredTensor> weights = new ArrayList<>();
        for (String weightName : strings(file, group, "weight_names", "layer " + printable(layer))) {
            Node n = group.getByPath(weightName);
            if (!(n instanceof Dataset ds)) {
                throw new WeightsFileException(file, "layer " + printable(layer) + " lists weight '" + printable(weightName) + "' but has no dataset of that name");
            }
            Class<?> type = ds.getJavaType();
            if (type != float.class && type != double.class) {
                throw new WeightsFileException(file, "weight " + printable(layer + "/" + weightName) + " holds " + type.getSimpleName()
                        + " values; weights must be floating point");
            }
            requireDataInFile(file, ds, layer + "/" + weightName);
            Shape shape;
            try {
                shape = Shape.of(ds.getDimensions());
            } catch (IllegalArgumentException e) {
                throw new WeightsFileException(file, "weight " + printable(layer + "/" + weightName) + ": " + e.getMessage());
            }
            String source = layer + "/" + weightName;
            weights.add(new StoredTensor(layer, KerasNames.weightName(weightName), source, shape, () -> read(file, ds, source)));
        }
        return weights;
    }

    /**
     * A dataset's values must lie inside the file: a corrupt address or size would otherwise make
     * jhdf allocate (or map) what the header claims, gigabytes from a file of kilobytes, before any
     * read fails. Checked when the file is opened, before any value is read.
     */
    private static void requireDataInFile(Path file, Dataset ds, String source) throws WeightsFileException {
        long fileBytes;
        try {
            fileBytes = Files.size(file);
        } catch (IOException e) {
            throw new WeightsFileException(file, "cannot read its size: " + e.getMessage(), e);
        }
        long stored, bytes;
        try {
            stored = ds.getStorageInBytes();
            bytes = ds.getSizeInBytes();
        } catch (RuntimeException e) {
            throw new WeightsFileException(file, "weight " + printable(source) + " has a corrupt size (" + e.getMessage() + "): the file is corrupt", e);
        }
        if (stored < 0 || stored > fileBytes || bytes < 0) {
            throw new WeightsFileException(file, "weight " + printable(source) + " claims " + stored + " stored bytes but the file has "
                    + fileBytes + ": the file is corrupt");
        }
        if (ds instanceof ContiguousDataset c && !ds.isEmpty()) {
            long address = c.getDataAddress();
            if (address < 0 || address > fileBytes || bytes > fileBytes - address) {
                throw new WeightsFileException(file, "weight " + printable(source) + " has its " + bytes + " bytes of data at offset "
                        + Long.toUnsignedString(address) + ", past the end of the file (" + fileBytes + " bytes): the file is corrupt");
            }
        }
    }

    private static float[] read(Path file, Dataset ds, String source) throws WeightsFileException {
        Object flat;
        try {
            flat = ds.getDataFlat();
        } catch (RuntimeException e) {
            throw new WeightsFileException(file, "cannot read " + source + " (truncated or corrupt file?): " + e.getMessage(), e);
        }
        if (flat instanceof float[] f) return f;
        if (flat instanceof double[] d) {
            float[] f = new float[d.length];
            for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
            return f;
        }
        throw new WeightsFileException(file, source + " did not read as floating point values");
    }

    /**
     * A string-array attribute as Keras writes it: fixed- or variable-length byte strings, split into
     * name0, name1, ... when it would not fit in an HDF5 object header; an empty list is stored as an
     * empty float64 array.
     */
    private static List<String> strings(Path file, Node node, String name, String owner) throws WeightsFileException {
        List<String> out = new ArrayList<>();
        Map<String, Attribute> attrs = node.getAttributes();
        if (attrs.containsKey(name)) {
            addStrings(file, attrs.get(name), name, owner, out);
        } else if (attrs.containsKey(name + "0")) {
            for (int chunk = 0; attrs.containsKey(name + chunk); chunk++) addStrings(file, attrs.get(name + chunk), name, owner, out);
        } else {
            throw new WeightsFileException(file, owner + " has no '" + name + "' attribute: not a Keras weights file, or a damaged one");
        }
        return out;
    }

    private static void addStrings(Path file, Attribute a, String name, String owner, List<String> out) throws WeightsFileException {
        if (a.isEmpty()) return;
        Object data = a.getData();
        if (data instanceof String s) {
            out.add(s);
        } else if (data instanceof String[] array) {
            for (String s : array) out.add(s.strip());
        } else {
            throw new WeightsFileException(file, "attribute '" + name + "' of " + owner + " is not a list of strings ("
                    + (data == null ? "no data" : data.getClass().getSimpleName()) + ")");
        }
    }

    private static WeightsFileException corrupt(Path file, RuntimeException e) {
        return new WeightsFileException(file, "cannot be read as HDF5, it is truncated or corrupt ("
                + e.getClass().getSimpleName() + ": " + e.getMessage() + ")", e);
    }

    /** Names from a damaged file may hold any bytes: see {@link Printable}. */
    static String printable(String name) { return Printable.of(name); }

    static String preview(List<String> names) {
        int n = Math.min(names.size(), 8);
        String head = String.join(", ", names.subList(0, n).stream().map(KerasH5Reader::printable).toList());
        return names.size() > n ? head + ", ... (" + names.size() + " in all)" : head;
    }
}
