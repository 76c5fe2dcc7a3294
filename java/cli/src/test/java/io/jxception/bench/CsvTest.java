package io.jxception.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class CsvTest {
    @Test
    void cellsWithCommasQuotesAndNewlinesRoundTrip(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("t.csv");
        List<String> header = List.of("a", "b", "c");
        List<List<String>> rows = List.of(List.of("pocl 3.1, cpu", "say \"hi\"", "two\nlines"), List.of("", "1.5", "x"));
        Csv.write(f, header, rows);
        assertEquals("a,b,c\n\"pocl 3.1, cpu\",\"say \"\"hi\"\"\",\"two\nlines\"\n,1.5,x\n", Files.readString(f));
        List<List<String>> back = Csv.read(f);
        assertEquals(header, back.get(0));
        assertEquals(rows, back.subList(1, 3));
    }

    @Test
    void rowsMustMatchTheHeader(@TempDir Path dir) {
        assertThrows(IllegalStateException.class, () -> Csv.write(dir.resolve("t.csv"), List.of("a", "b"), List.of(List.of("1"))));
    }

    @Test
    void numbersHaveSixSignificantDigitsAndNaNIsEmpty() {
        assertEquals("0.333333", Csv.number(1.0 / 3));
        assertEquals("1234.57", Csv.number(1234.5678));
        assertEquals("2", Csv.number(2.0));
        assertEquals("1.5e-07", Csv.number(1.5e-7));
        assertEquals("", Csv.number(Double.NaN));
    }
}
