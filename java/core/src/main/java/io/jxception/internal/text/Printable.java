package io.jxception.internal.text;

/**
 * Text from a file (a tensor or layer name, a metadata value, an image file's name) made safe to
 * print on a terminal: control characters (C0, DEL, C1, so ESC and every terminal escape sequence),
 * Unicode format characters (bidirectional overrides, zero-width joiners) and line or paragraph
 * separators are shown as {@code \\uXXXX}; everything else, accents and symbols included, stays as
 * it is. Every message that quotes file content goes through {@link #of}.
 */
public final class Printable {
    /** Longer quotes are cut (a corrupt file can hold a megabyte "name"). */
    public static final int MAX_CHARS = 200;

    private Printable() {}

    /** {@code text} with unsafe characters escaped, cut to {@link #MAX_CHARS} with "..." when longer; "null" for null. */
    public static String of(String text) {
        if (text == null) return "null";
        StringBuilder sb = new StringBuilder(Math.min(text.length(), MAX_CHARS) + 8);
        int shown = 0;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (shown++ == MAX_CHARS) {
                sb.append("... (").append(text.codePointCount(0, text.length())).append(" characters)");
                break;
            }
            append(sb, cp);
        }
        return sb.toString();
    }

    private static void append(StringBuilder sb, int cp) {
        if (safe(cp)) sb.appendCodePoint(cp);
        else if (cp <= 0xffff) sb.append(String.format("\\u%04x", cp));
        else sb.append(String.format("\\U%08x", cp));
    }

    /** {@code text} with unsafe characters escaped as in {@link #of}, whatever its length (a whole message). */
    public static String escape(String text) {
        if (text == null) return "null";
        if (isSafe(text)) return text;
        StringBuilder sb = new StringBuilder(text.length() + 16);
        text.codePoints().forEach(cp -> append(sb, cp));
        return sb.toString();
    }

    /** {@link #of} in single quotes: {@code 'name'}. */
    public static String quoted(String text) { return "'" + of(text) + "'"; }

    /** Whether every character of {@code text} prints as itself. */
    public static boolean isSafe(String text) {
        return text.codePoints().allMatch(Printable::safe);
    }

    private static boolean safe(int cp) {
        return switch (Character.getType(cp)) {
            case Character.CONTROL, Character.FORMAT, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
                 Character.SURROGATE, Character.UNASSIGNED, Character.PRIVATE_USE -> false;
            default -> true;
        };
    }
}
