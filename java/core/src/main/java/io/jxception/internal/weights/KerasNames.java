package io.jxception.internal.weights;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keras layer and weight names of Xception: the named layers of keras/src/applications/xception.py
 * (block1_conv1, block2_sepconv1_bn, ..., predictions) and the generated names of the residual
 * branches (conv2d, conv2d_1, ... and batch_normalization, batch_normalization_1, ...), which Keras
 * numbers per session, so that a file may start at any number.
 */
final class KerasNames {
    static final String CONV = "conv2d";
    static final String BN = "batch_normalization";
    static final String PREDICTIONS = "predictions";

    private static final Pattern GENERATED = Pattern.compile("(conv2d|batch_normalization)(?:_(\\d+))?");
    private static final Pattern NAMED = Pattern.compile("block1_conv[12](_bn)?|block\\d+_sepconv\\d(_bn)?|predictions");
    private static final Pattern SEPCONV3 = Pattern.compile("block(\\d+)_sepconv3");

    private KerasNames() {}

    /** "block1_conv1/kernel:0" → "kernel"; "moving_mean" stays. */
    static String weightName(String stored) {
        String last = stored.substring(stored.lastIndexOf('/') + 1);
        return last.replaceFirst(":\\d+$", "");
    }

    /** "conv2d" or "batch_normalization" for a generated name, else null. */
    static String generatedKind(String layer) {
        Matcher m = GENERATED.matcher(layer);
        return m.matches() ? m.group(1) : null;
    }

    /** Keras' counter in a generated name: conv2d → 0, conv2d_7 → 7. */
    static long generatedNumber(String layer) {
        Matcher m = GENERATED.matcher(layer);
        if (!m.matches()) throw new IllegalArgumentException("not a generated layer name: " + layer);
        if (m.group(2) == null) return 0;
        try {
            return Long.parseLong(m.group(2));
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }

    /** A layer name that keras.applications.Xception gives a layer with weights. */
    static boolean isXceptionLayer(String layer) {
        return generatedKind(layer) != null || NAMED.matcher(layer).matches();
    }

    /** The block number of a middle-flow layer "blockN_sepconv3", else -1 (only middle blocks have three separable convs). */
    static int middleBlock(String layer) {
        Matcher m = SEPCONV3.matcher(layer);
        if (!m.matches()) return -1;
        try {
            return Integer.parseInt(m.group(1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
