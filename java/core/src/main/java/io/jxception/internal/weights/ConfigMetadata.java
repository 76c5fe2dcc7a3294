package io.jxception.internal.weights;

import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The {@link XceptionConfig} as string metadata of a safetensors file this library writes
 * ({@code __metadata__}: "format": "keras", "jxception.width_multiplier": "0.0625", ...). Shapes stay
 * the authority when loading; the metadata adds what shapes cannot tell (pooling, the input size it
 * was trained at).
 */
public final class ConfigMetadata {
    static final String FORMAT = "format";
    static final String KERAS_LAYOUT = "keras";
    private static final String PREFIX = "jxception.";

    private ConfigMetadata() {}

    public static Map<String, String> of(XceptionConfig c) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(FORMAT, KERAS_LAYOUT);
        m.put(PREFIX + "input_height", Integer.toString(c.inputHeight()));
        m.put(PREFIX + "input_width", Integer.toString(c.inputWidth()));
        m.put(PREFIX + "classes", Integer.toString(c.classes()));
        m.put(PREFIX + "include_top", Boolean.toString(c.includeTop()));
        m.put(PREFIX + "pooling", c.pooling().name().toLowerCase(Locale.ROOT));
        m.put(PREFIX + "width_multiplier", Double.toString(c.widthMultiplier()));
        m.put(PREFIX + "middle_repeats", Integer.toString(c.middleRepeats()));
        return m;
    }

    /** The classes recorded in the metadata (meaningful with a top only), else Keras' default 1000. */
    static int classes(Map<String, String> metadata) {
        try {
            int c = Integer.parseInt(metadata.getOrDefault(PREFIX + "classes", "1000"));
            return c >= 1 ? c : 1000;
        } catch (NumberFormatException e) {
            return 1000;
        }
    }

    /** The pooling recorded in the metadata, NONE (Keras' default) when absent or unknown. */
    static Pooling pooling(Map<String, String> metadata) {
        String p = metadata.get(PREFIX + "pooling");
        if (p == null) return Pooling.NONE;
        for (Pooling v : Pooling.values()) if (v.name().equalsIgnoreCase(p)) return v;
        return Pooling.NONE;
    }
}
