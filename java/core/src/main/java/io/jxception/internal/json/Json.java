package io.jxception.internal.json;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The project's one JSON reader and writer: safetensors headers, the weights manifest, the bench
 * suite's reports, peaks cache and peer-script output.
 *
 * <p>Reading is strict RFC 8259: trailing content, duplicate keys, unescaped control characters, lone
 * surrogates, leading zeros and nesting deeper than 64 are rejected with the character position.
 * Values: {@code Map<String,Object>} (key order kept), {@code List<Object>}, {@code String},
 * {@code BigDecimal} (exact: header offsets are checked as longs), {@code Boolean}, and {@code null}.
 * Writing takes the same types (any {@code Number}; a non-finite double is written as null), indented.
 */
public final class Json {
    private static final int MAX_DEPTH = 64;

    /** A syntax error with the character position where it was found. */
    public static final class SyntaxException extends IllegalArgumentException {
        SyntaxException(String message, int position) {
            super(message + " at character " + position);
        }
    }

    private final String s;
    private int at;

    private Json(String s) { this.s = s; }

    /** The value {@code text} holds; a {@link SyntaxException} (an IllegalArgumentException) if it is not exactly one JSON value. */
    public static Object parse(String text) {
        Json p = new Json(text);
        p.skipWhitespace();
        Object v = p.value(0);
        p.skipWhitespace();
        if (p.at != text.length()) throw p.error("unexpected content after the JSON value");
        return v;
    }

    private Object value(int depth) {
        if (depth >= MAX_DEPTH) throw error("nested deeper than " + MAX_DEPTH + " levels");
        if (at >= s.length()) throw error("unexpected end of input");
        char c = s.charAt(at);
        return switch (c) {
            case '{' -> object(depth);
            case '[' -> array(depth);
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", null);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) yield number();
                throw error("unexpected character '" + printable(c) + "'");
            }
        };
    }

    private Map<String, Object> object(int depth) {
        at++; // {
        Map<String, Object> m = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            at++;
            return m;
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') throw error("expected a string key");
            int keyAt = at;
            String key = string();
            skipWhitespace();
            expect(':');
            skipWhitespace();
            Object v = value(depth + 1);
            if (m.containsKey(key)) throw new SyntaxException("duplicate key \"" + key + "\"", keyAt);
            m.put(key, v);
            skipWhitespace();
            char c = peek();
            at++;
            if (c == '}') return m;
            if (c != ',') throw errorAt("expected ',' or '}'", at - 1);
        }
    }

    private List<Object> array(int depth) {
        at++; // [
        List<Object> list = new ArrayList<>();
        skipWhitespace();
        if (peek() == ']') {
            at++;
            return list;
        }
        while (true) {
            skipWhitespace();
            list.add(value(depth + 1));
            skipWhitespace();
            char c = peek();
            at++;
            if (c == ']') return list;
            if (c != ',') throw errorAt("expected ',' or ']'", at - 1);
        }
    }

    private String string() {
        at++; // "
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (at >= s.length()) throw error("unterminated string");
            char c = s.charAt(at++);
            if (c == '"') return sb.toString();
            if (c < 0x20) throw errorAt("control character " + (int) c + " must be escaped in a string", at - 1);
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            if (at >= s.length()) throw error("unterminated escape");
            char e = s.charAt(at++);
            switch (e) {
                case '"' -> sb.append('"');
                case '\\' -> sb.append('\\');
                case '/' -> sb.append('/');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    char u = hex4();
                    if (Character.isHighSurrogate(u)) {
                        if (!s.startsWith("\\u", at)) throw error("lone high surrogate in \\u escape");
                        at += 2;
                        char low = hex4();
                        if (!Character.isLowSurrogate(low)) throw error("high surrogate not followed by a low surrogate");
                        sb.append(u).append(low);
                    } else if (Character.isLowSurrogate(u)) {
                        throw error("lone low surrogate in \\u escape");
                    } else {
                        sb.append(u);
                    }
                }
                default -> throw errorAt("invalid escape '\\" + printable(e) + "'", at - 1);
            }
        }
    }

    private char hex4() {
        if (at + 4 > s.length()) throw error("truncated \\u escape");
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int d = Character.digit(s.charAt(at + i), 16);
            if (d < 0) throw error("invalid hex digit in \\u escape");
            v = v * 16 + d;
        }
        at += 4;
        return (char) v;
    }

    private BigDecimal number() {
        int start = at;
        if (peek() == '-') at++;
        if (peek() == '0') {
            at++;
            if (isDigit(peek())) throw error("leading zeros are not allowed in numbers");
        } else if (isDigit(peek())) {
            while (isDigit(peek())) at++;
        } else {
            throw error("expected a digit");
        }
        if (peek() == '.') {
            at++;
            if (!isDigit(peek())) throw error("expected a digit after '.'");
            while (isDigit(peek())) at++;
        }
        if (peek() == 'e' || peek() == 'E') {
            at++;
            if (peek() == '+' || peek() == '-') at++;
            if (!isDigit(peek())) throw error("expected a digit in the exponent");
            while (isDigit(peek())) at++;
        }
        if (at - start > 400) throw errorAt("number too long", start);
        try {
            return new BigDecimal(s.substring(start, at));
        } catch (NumberFormatException e) {
            throw errorAt("number out of range", start);
        }
    }

    private Object literal(String word, Object v) {
        if (!s.startsWith(word, at)) throw error("unexpected character '" + printable(s.charAt(at)) + "'");
        at += word.length();
        return v;
    }

    private void expect(char c) {
        if (peek() != c) throw error("expected '" + c + "'");
        at++;
    }

    /** The current character, or 0 at the end (0 is never valid where peek is used). */
    private char peek() { return at < s.length() ? s.charAt(at) : 0; }

    private static boolean isDigit(char c) { return c >= '0' && c <= '9'; }

    private void skipWhitespace() {
        while (at < s.length()) {
            char c = s.charAt(at);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
            at++;
        }
    }

    private SyntaxException error(String message) {
        return errorAt(at >= s.length() ? message + " (input ended)" : message, at);
    }

    private SyntaxException errorAt(String message, int position) { return new SyntaxException(message, position); }

    private static String printable(char c) {
        return c < 0x20 || c > 0x7e ? String.format("\\u%04x", (int) c) : String.valueOf(c);
    }

    /** {@code parse(text)}, which must be an object. */
    public static Map<String, Object> parseObject(String text) {
        Object v = parse(text);
        if (!(v instanceof Map)) throw new IllegalArgumentException("expected a JSON object, got " + (v == null ? "null" : v.getClass().getSimpleName()));
        @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) v;
        return m;
    }

    /** A number as a double (for the bench suite's measurements); {@code null} or a non-number gives NaN. */
    public static double number(Object v) { return v instanceof Number n ? n.doubleValue() : Double.NaN; }

    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, 0);
        return sb.append('\n').toString();
    }

    private static void write(StringBuilder sb, Object v, int indent) {
        if (v == null) sb.append("null");
        else if (v instanceof String s) sb.append(quote(s));
        else if (v instanceof Boolean b) sb.append(b);
        else if (v instanceof java.math.BigDecimal d) sb.append(d.toString());
        else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (!Double.isFinite(d)) sb.append("null");
            else if (d == Math.rint(d) && Math.abs(d) < 1e15) sb.append((long) d);
            else sb.append(d); // Double.toString is valid JSON, e.g. 1.5E-4
        } else if (v instanceof Number n) sb.append(n.longValue());
        else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                sb.append(first ? "\n" : ",\n").append("  ".repeat(indent + 1));
                first = false;
                sb.append(quote(String.valueOf(e.getKey())));
                sb.append(": ");
                write(sb, e.getValue(), indent + 1);
            }
            if (!first) sb.append('\n').append("  ".repeat(indent));
            sb.append('}');
        } else if (v instanceof List<?> l) {
            boolean flat = l.stream().noneMatch(x -> x instanceof Map || x instanceof List);
            sb.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (flat) sb.append(i == 0 ? "" : ", ");
                else sb.append(i == 0 ? "\n" : ",\n").append("  ".repeat(indent + 1));
                write(sb, l.get(i), indent + 1);
            }
            if (!flat && !l.isEmpty()) sb.append('\n').append("  ".repeat(indent));
            sb.append(']');
        } else throw new IllegalArgumentException("cannot write " + v.getClass().getName() + " as JSON");
    }

    /** {@code text} as a JSON string literal: quotes, backslashes and control characters escaped. */
    public static String quote(String text) {
        StringBuilder sb = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }

    /** The object's value as a map, for callers that have checked it is one. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> asObject(Object v) {
        return v instanceof Map<?, ?> ? Collections.unmodifiableMap((Map<String, Object>) v) : null;
    }
}
