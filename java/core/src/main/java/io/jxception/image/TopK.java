package io.jxception.image;

import java.util.ArrayList;
import java.util.List;

/** The k largest entries of a score row, largest first; ties keep the lower index first, NaN ranks last. Stateless: every method may be called from any thread; entries are immutable. */
public final class TopK {
    private TopK() {}

    /** One ranked entry: position in the row and its value. */
    public record Entry(int index, float value) {}

    /** Top k of {@code scores[offset .. offset+length)}; indices are relative to {@code offset}. */
    public static List<Entry> of(float[] scores, int offset, int length, int k) {
        if (k < 1) throw new IllegalArgumentException("k must be at least 1, got " + k);
        if (offset < 0 || length < 0 || offset + length > scores.length) {
            throw new IndexOutOfBoundsException("row [" + offset + ", " + (offset + length) + ") of " + scores.length + " scores");
        }
        int take = Math.min(k, length);
        // partial selection: O(length · k), k is small (5)
        List<Entry> top = new ArrayList<>(take + 1);
        for (int i = 0; i < length; i++) {
            float v = scores[offset + i];
            int pos = top.size();
            while (pos > 0 && ranksBefore(v, top.get(pos - 1).value())) pos--;
            if (pos < take) {
                top.add(pos, new Entry(i, v));
                if (top.size() > take) top.remove(take);
            }
        }
        return top;
    }

    /** The {@code k} highest of {@code scores}, highest first (ties: lower index first). */
    public static List<Entry> of(float[] scores, int k) { return of(scores, 0, scores.length, k); }

    /** Strictly better: greater, or a number against NaN. Equal values keep their earlier order. */
    private static boolean ranksBefore(float v, float other) {
        if (Float.isNaN(v)) return false;
        return Float.isNaN(other) || v > other;
    }
}
