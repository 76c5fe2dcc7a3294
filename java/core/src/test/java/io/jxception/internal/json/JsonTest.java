package io.jxception.internal.json;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The strict JSON reader behind safetensors headers and the manifest. */
class JsonTest {
    @Test
    void parsesEveryKindOfValue() throws Json.SyntaxException {
        Object v = Json.parse(" {\"a\": [1, -2.5e3, 0], \"b\": \"x\\n\\u00e9\\ud83d\\ude00\\\"\\\\\\/\", \"c\": true, \"d\": false, \"e\": null, \"f\": {}} ");
        Map<String, Object> m = Json.asObject(v);
        assertEquals(List.of(new BigDecimal("1"), new BigDecimal("-2.5e3"), new BigDecimal("0")), m.get("a"));
        assertEquals("x\né\uD83D\uDE00\"\\/", m.get("b"));
        assertEquals(Boolean.TRUE, m.get("c"));
        assertEquals(Boolean.FALSE, m.get("d"));
        assertTrue(m.containsKey("e"));
        assertNull(m.get("e"));
        assertEquals(Map.of(), m.get("f"));
        assertEquals(List.of("a", "b", "c", "d", "e", "f"), List.copyOf(m.keySet()), "key order kept");
    }

    @Test
    void quoteRoundTrips() throws Json.SyntaxException {
        String s = "a\"b\\c\nd\u0001é😀";
        assertEquals(s, Json.parse(Json.quote(s)));
    }

    @Test
    void rejectsWhatRfc8259Rejects() {
        String[][] cases = {
                {"{\"a\":1} x", "unexpected content after the JSON value"},
                {"{\"a\":1,}", "expected a string key"},
                {"[1,]", "unexpected character ']'"},
                {"{\"a\" 1}", "expected ':'"},
                {"01", "leading zeros"},
                {"1.", "expected a digit after '.'"},
                {"-", "expected a digit"},
                {"1e", "expected a digit in the exponent"},
                {"\"a\u0001\"", "control character 1 must be escaped"},
                {"\"\\x\"", "invalid escape '\\x'"},
                {"\"\\ud800\"", "lone high surrogate"},
                {"\"\\udc00\"", "lone low surrogate"},
                {"\"\\u12\"", "truncated \\u escape"},
                {"\"\\u12g4\"", "invalid hex digit"},
                {"\"abc", "unterminated string"},
                {"{\"a\":1,\"a\":2}", "duplicate key \"a\""},
                {"tru", "unexpected character 't'"},
                {"NaN", "unexpected character 'N'"},
                {"", "unexpected end of input"},
        };
        for (String[] c : cases) {
            Json.SyntaxException e = assertThrows(Json.SyntaxException.class, () -> Json.parse(c[0]), c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + " → " + e.getMessage());
        }
    }

    @Test
    void deepNestingStopsAt64Levels() throws Json.SyntaxException {
        assertNotNull(Json.parse("[".repeat(64) + "]".repeat(64)));
        Json.SyntaxException e = assertThrows(Json.SyntaxException.class, () -> Json.parse("[".repeat(65) + "]".repeat(65)));
        assertTrue(e.getMessage().contains("nested deeper than 64 levels"), e.getMessage());
    }

    @Test
    void writtenDocumentsParseBackToTheSameValues() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "cuda:0 \"H100\"\n\tfp32 \u0001");
        m.put("gflops", 1.5e-4);
        m.put("count", 22910480L);
        m.put("list", List.of(1.0, 2.5, "x"));
        m.put("nested", Map.of("ok", true));
        m.put("none", null);
        Map<String, Object> back = Json.parseObject(Json.write(m));
        assertEquals("cuda:0 \"H100\"\n\tfp32 \u0001", back.get("name"));
        assertEquals(1.5e-4, Json.number(back.get("gflops")), 0);
        assertEquals(new BigDecimal("22910480"), back.get("count"), "integers are written without a fraction");
        assertEquals(List.of(new BigDecimal("1"), new BigDecimal("2.5"), "x"), back.get("list"));
        assertEquals(Map.of("ok", true), back.get("nested"));
        assertTrue(back.containsKey("none"));
        assertNull(back.get("none"));
    }

    @Test
    void nonFiniteNumbersAreWrittenAsNull() {
        assertEquals("[null, null]\n", Json.write(List.of(Double.NaN, Double.POSITIVE_INFINITY)));
    }

    @Test
    void malformedDocumentsAreRejectedWithThePosition() {
        for (String bad : new String[]{"{", "{\"a\" 1}", "[1,]", "{\"a\":1} x", "\"abc", "{\"a\":tru}", "\"\\q\""}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse(bad), bad);
            assertTrue(e.getMessage().contains("at character"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Json.parseObject("[1]"));
    }
}
