package io.jxception.internal.weights;

import io.jxception.weights.WeightsFileException;
import io.jxception.tensor.Shape;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads timm's {@code legacy_xception} state dicts (the Keras weights ported to PyTorch by
 * Cadene/tstandley; timm/models/legacy_xception.py, formerly xception.py) into Keras names and layouts.
 *
 * <p>timm's modules and their Keras layers:
 * <pre>
 * conv1, bn1 / conv2, bn2            block1_conv1(_bn) / block1_conv2(_bn)   (stem, ReLU after BN: act1, act2)
 * block1 .. block3                   block2 .. block4   (Block(64,128,2,2, start_with_relu=False), (128,256), (256,728))
 * block4 .. block11                  block5 .. block12  (middle flow: Block(728,728,3,1), no skip, identity residual)
 * block12                            block13            (Block(728,1024,2,2, grow_first=False): 728 then 1024)
 * blockK.skip, blockK.skipbn         the K-th residual conv2d / batch_normalization (blocks 1, 2, 3, 12)
 * blockK.rep.I.conv1 / .pointwise    blockN_sepconvJ depthwise_kernel / pointwise_kernel (J-th SeparableConv2d in rep)
 * blockK.rep.I (BatchNorm2d)         blockN_sepconvJ_bn  (J-th BatchNorm2d in rep)
 * conv3, bn3 / conv4, bn4            block14_sepconv1(_bn) / block14_sepconv2(_bn)   (ReLU after BN: act3, act4)
 * fc (or Cadene's last_linear)       predictions
 * </pre>
 * The ReLUs sit where Keras has them: each rep is [ReLU, SeparableConv2d, BatchNorm2d] per separable
 * conv (pre-activation), block1's rep drops its first ReLU (Keras' block2_sepconv1 has none), rep[0]
 * is not in place so the skip reads the pre-ReLU input, and the max pool ends the rep of strided
 * blocks. So rep indices are 0,1 | 3,4 in block1, 1,2 | 4,5 (| 7,8) elsewhere; they are derived here
 * from the keys, not assumed. Two numeric differences of the PyTorch model do not concern the weights:
 * BatchNorm2d's eps is 1e-5 (Keras: 1e-3, which this library uses), and MaxPool2d(3, 2, padding=1)
 * pads both sides, which equals TensorFlow's 'same' only for odd input sizes.
 *
 * <p>Layouts: conv (O,I,kh,kw) → (kh,kw,I,O); depthwise (C,1,3,3) → (3,3,C,1); pointwise (O,I,1,1) →
 * (1,1,I,O); fc (classes,2048) → (2048,classes). BatchNorm weight/bias/running_mean/running_var →
 * gamma/beta/moving_mean/moving_variance; num_batches_tracked is dropped.
 */
final class TimmNames {
    private static final Pattern STEM = Pattern.compile("conv([12])\\.weight");
    private static final Pattern STEM_BN = Pattern.compile("bn([1-4])\\.(\\w+)");
    private static final Pattern EXIT_SEP = Pattern.compile("conv([34])\\.(conv1|pointwise)\\.weight");
    private static final Pattern SKIP = Pattern.compile("block(\\d{1,6})\\.skip\\.weight");
    private static final Pattern SKIP_BN = Pattern.compile("block(\\d{1,6})\\.skipbn\\.(\\w+)");
    private static final Pattern REP_SEP = Pattern.compile("block(\\d{1,6})\\.rep\\.(\\d{1,6})\\.(conv1|pointwise)\\.weight");
    private static final Pattern REP_BN = Pattern.compile("block(\\d{1,6})\\.rep\\.(\\d{1,6})\\.(\\w+)");
    private static final Pattern FC = Pattern.compile("(?:fc|last_linear)\\.(weight|bias)");
    private static final Pattern BLOCK = Pattern.compile("block(\\d{1,6})\\..*");
    private static final Map<String, String> BN_WEIGHTS = Map.of(
            "weight", "gamma", "bias", "beta", "running_mean", "moving_mean", "running_var", "moving_variance");
    private static final String BATCHES_TRACKED = "num_batches_tracked";

    private TimmNames() {}

    /** Whether tensor names are timm's legacy_xception names rather than Keras ones. */
    static boolean isTimm(Collection<String> names) {
        for (String n : names) {
            String k = stripPrefix(n);
            if (k.equals("conv1.weight") || k.startsWith("block1.rep.")) return true;
        }
        return false;
    }

    /** The file's tensors as Keras layers (generated residual names conv2d, conv2d_1, ... in block order). */
    static List<StoredLayer> toKeras(SafetensorsFile file) throws WeightsFileException {
        List<SafetensorsHeader.Entry> entries = file.entries();
        Map<Integer, Integer> kerasBlock = kerasBlocks(file, entries);
        Map<Integer, Integer> residualIndex = new LinkedHashMap<>();
        Map<Integer, TreeSet<Integer>> sepIndices = new TreeMap<>(), bnIndices = new TreeMap<>();
        for (SafetensorsHeader.Entry e : entries) {
            String k = stripPrefix(e.name());
            Matcher m;
            if ((m = SKIP.matcher(k)).matches()) residualIndex.put(Integer.parseInt(m.group(1)), 0);
            else if ((m = REP_SEP.matcher(k)).matches()) sepIndices.computeIfAbsent(Integer.parseInt(m.group(1)), b -> new TreeSet<>()).add(Integer.parseInt(m.group(2)));
            else if ((m = REP_BN.matcher(k)).matches()) bnIndices.computeIfAbsent(Integer.parseInt(m.group(1)), b -> new TreeSet<>()).add(Integer.parseInt(m.group(2)));
        }
        int r = 0;
        for (int block : new TreeSet<>(residualIndex.keySet())) residualIndex.put(block, r++);

        Map<String, List<StoredTensor>> layers = new LinkedHashMap<>();
        for (SafetensorsHeader.Entry e : entries) {
            String k = stripPrefix(e.name());
            Target t = target(file, k, kerasBlock, residualIndex, sepIndices, bnIndices);
            if (t == null) continue; // num_batches_tracked
            if (!e.dtype().isFloatingPoint()) {
                throw new WeightsFileException(file.file(), "tensor '" + e.name() + "' is " + e.dtype() + "; weights must be F32, F16, BF16 or F64");
            }
            if (t.axes != null && e.shape().rank() != t.axes.length) {
                throw new WeightsFileException(file.file(), "timm tensor '" + e.name() + "' has shape " + e.shape() + ", expected rank " + t.axes.length
                        + " (PyTorch layout): not a legacy_xception state dict");
            }
            Shape shape = t.axes == null ? e.shape() : Layouts.permute(e.shape(), t.axes);
            StoredTensor.ValuesReader reader = t.axes == null ? () -> file.readFloats(e)
                    : () -> Layouts.permute(file.readFloats(e), e.shape(), t.axes);
            layers.computeIfAbsent(t.layer, l -> new ArrayList<>()).add(new StoredTensor(t.layer, t.weight, e.name(), shape, reader));
        }
        List<StoredLayer> out = new ArrayList<>();
        layers.forEach((name, weights) -> out.add(new StoredLayer(name, weights)));
        return out;
    }

    /** A Keras layer and weight name, and the permutation from the PyTorch layout (null: none). */
    private record Target(String layer, String weight, int[] axes) {}

    private static Target target(SafetensorsFile file, String k, Map<Integer, Integer> kerasBlock, Map<Integer, Integer> residualIndex,
                                 Map<Integer, TreeSet<Integer>> sepIndices, Map<Integer, TreeSet<Integer>> bnIndices) throws WeightsFileException {
        Matcher m;
        if ((m = STEM.matcher(k)).matches()) return new Target("block1_conv" + m.group(1), "kernel", Layouts.OIHW_TO_HWIO);
        if ((m = EXIT_SEP.matcher(k)).matches()) {
            return separable("block14_sepconv" + (Integer.parseInt(m.group(1)) - 2), m.group(2));
        }
        if ((m = STEM_BN.matcher(k)).matches()) {
            int i = Integer.parseInt(m.group(1));
            return bn(file, k, i <= 2 ? "block1_conv" + i + "_bn" : "block14_sepconv" + (i - 2) + "_bn", m.group(2));
        }
        if ((m = SKIP.matcher(k)).matches()) {
            return new Target(generated(KerasNames.CONV, residualIndex.get(Integer.parseInt(m.group(1)))), "kernel", Layouts.OIHW_TO_HWIO);
        }
        if ((m = SKIP_BN.matcher(k)).matches()) {
            Integer index = residualIndex.get(Integer.parseInt(m.group(1)));
            if (index == null) throw new WeightsFileException(file.file(), "timm key '" + k + "' has no matching skip conv");
            return bn(file, k, generated(KerasNames.BN, index), m.group(2));
        }
        if ((m = REP_SEP.matcher(k)).matches()) {
            int block = Integer.parseInt(m.group(1));
            int j = sepIndices.get(block).headSet(Integer.parseInt(m.group(2))).size() + 1;
            return separable("block" + kerasBlock.get(block) + "_sepconv" + j, m.group(3));
        }
        if ((m = REP_BN.matcher(k)).matches()) {
            int block = Integer.parseInt(m.group(1));
            TreeSet<Integer> bns = bnIndices.get(block);
            TreeSet<Integer> seps = sepIndices.getOrDefault(block, new TreeSet<>());
            if (bns.size() != seps.size()) {
                throw new WeightsFileException(file.file(), "timm block" + block + " has " + seps.size() + " separable convs but "
                        + bns.size() + " batch norms in its rep: not a legacy_xception state dict");
            }
            int j = bns.headSet(Integer.parseInt(m.group(2))).size() + 1;
            return bn(file, k, "block" + kerasBlock.get(block) + "_sepconv" + j + "_bn", m.group(3));
        }
        if ((m = FC.matcher(k)).matches()) {
            return m.group(1).equals("weight") ? new Target(KerasNames.PREDICTIONS, "kernel", Layouts.TRANSPOSE_2D)
                    : new Target(KerasNames.PREDICTIONS, "bias", null);
        }
        throw new WeightsFileException(file.file(), "unexpected tensor '" + k + "' for timm's legacy_xception: not an Xception state dict"
                + " (expected conv1.weight, bn1.*, block1.rep.0.conv1.weight, block1.skip.weight, ..., fc.weight)");
    }

    private static Target separable(String layer, String part) {
        return part.equals("conv1") ? new Target(layer, "depthwise_kernel", Layouts.DEPTHWISE_TO_KERAS)
                : new Target(layer, "pointwise_kernel", Layouts.OIHW_TO_HWIO);
    }

    private static Target bn(SafetensorsFile file, String key, String layer, String timmWeight) throws WeightsFileException {
        if (timmWeight.equals(BATCHES_TRACKED)) return null;
        String keras = BN_WEIGHTS.get(timmWeight);
        if (keras == null) throw new WeightsFileException(file.file(), "unexpected batch-norm tensor '" + key + "' for timm's legacy_xception");
        return new Target(layer, keras, null);
    }

    private static String generated(String kind, int index) {
        return index == 0 ? kind : kind + "_" + index;
    }

    /** timm block K → Keras block: K+1, except the last block, which is Keras' block13 (exit flow). */
    private static Map<Integer, Integer> kerasBlocks(SafetensorsFile file, List<SafetensorsHeader.Entry> entries) throws WeightsFileException {
        TreeSet<Integer> blocks = new TreeSet<>();
        for (SafetensorsHeader.Entry e : entries) {
            Matcher m = BLOCK.matcher(stripPrefix(e.name()));
            if (m.matches()) blocks.add(Integer.parseInt(m.group(1)));
        }
        if (blocks.size() < 4 || blocks.first() != 1 || blocks.last() != blocks.size()) {
            throw new WeightsFileException(file.file(), "timm blocks " + blocks + " are not block1 .. blockN with N >= 4:"
                    + " not a legacy_xception state dict");
        }
        Map<Integer, Integer> out = new LinkedHashMap<>();
        for (int b : blocks) out.put(b, b == blocks.last() ? 13 : b + 1);
        return out;
    }

    /** DataParallel and some wrappers save "module.conv1.weight". */
    private static String stripPrefix(String name) {
        return name.startsWith("module.") ? name.substring("module.".length()) : name;
    }
}
