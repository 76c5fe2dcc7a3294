package io.jxception.bench;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class JsonTest {
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
        assertEquals(1.5e-4, (Double) back.get("gflops"), 0);
        assertEquals(22910480.0, back.get("count"));
        assertEquals(List.of(1.0, 2.5, "x"), back.get("list"));
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
