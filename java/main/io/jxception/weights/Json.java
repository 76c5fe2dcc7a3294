package io.jxception.weights;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict JSON (RFC 8259) reader for headers and manifests, and string quoting for writers.
 * Values: {@code Map<String,Object>} (key order kept), {@code List<Object>}, {@code String},
 * {@code BigDecimal}, {@code Boolean}, {@link #NULL}. Rejected: trailing content, duplicate keys,
 * unescaped control characters, lone surrogates, leading zeros, nesting deeper than 64.
 */
final class Json {
    /** JSON's null. */
    static final Object NULL = new Object() {
        @Override public String toString() { return "null"; }
    };
    private static final int MAX_DEPTH = 64;

    /** A syntax error with the character position where it was found. */
    static final class SyntaxException extends Exception {
        SyntaxException(String message, int position) {
            super(message + " at character " + position);
        }
    }

    private final String s;
    private int at;

    private Json(String s) { this.s = s; }

    static Object parse(String text) throws SyntaxException {
        Json p = new Json(text);
        p.skipWhitespace();
        Object v = p.value(0);
        p.skipWhitespace();
        if (p.at != text.length()) throw p.error("unexpected content after the JSON value");
        return v;
    }

    private Object value(int depth) throws SyntaxException {
        if (depth >= MAX_DEPTH) throw error("nested deeper than " + MAX_DEPTH + " levels");
        if (at >= s.length()) throw error("unexpected end of input");
        char c = s.charAt(at);
        return switch (c) {
            case '{' -> object(depth);
            case '[' -> array(depth);
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", NULL);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) yield number();
                throw error("unexpected character '" + printable(c) + "'");
            }
        };
    }

    private Map<String, Object> object(int depth) throws SyntaxException {
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

    private List<Object> array(int depth) throws SyntaxException {
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

    private String string() throws SyntaxException {
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

    private char hex4() throws SyntaxException {
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

    private BigDecimal number() throws SyntaxException {
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

    private Object literal(String word, Object v) throws SyntaxException {
        if (!s.startsWith(word, at)) throw error("unexpected character '" + printable(s.charAt(at)) + "'");
        at += word.length();
        return v;
    }

    private void expect(char c) throws SyntaxException {
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

    /** {@code text} as a JSON string literal: quotes, backslashes and control characters escaped. */
    static String quote(String text) {
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
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }

    /** The object's value as a map, for callers that have checked it is one. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> asObject(Object v) {
        return v instanceof Map<?, ?> ? Collections.unmodifiableMap((Map<String, Object>) v) : null;
    }
}
