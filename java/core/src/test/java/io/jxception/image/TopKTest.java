package io.jxception.image;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class TopKTest {
    @Test
    void largestFirstWithTiesInIndexOrder() {
        float[] s = {0.1f, 0.4f, 0.05f, 0.4f, 0.3f, 0.15f};
        assertEquals(List.of(new TopK.Entry(1, 0.4f), new TopK.Entry(3, 0.4f), new TopK.Entry(4, 0.3f)), TopK.of(s, 3));
    }

    @Test
    void rowOfAMatrixUsesRelativeIndices() {
        float[] m = {9, 9, 9, 0.2f, 0.7f, 0.1f};
        assertEquals(List.of(new TopK.Entry(1, 0.7f), new TopK.Entry(0, 0.2f)), TopK.of(m, 3, 3, 2));
    }

    @Test
    void kLargerThanRowReturnsWholeRowSortedAndNanLast() {
        float[] s = {Float.NaN, 1, 3, 2};
        List<TopK.Entry> top = TopK.of(s, 10);
        assertEquals(4, top.size());
        assertEquals(List.of(2, 3, 1, 0), top.stream().map(TopK.Entry::index).toList());
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> TopK.of(new float[3], 0));
        assertThrows(IndexOutOfBoundsException.class, () -> TopK.of(new float[3], 2, 2, 1));
    }
}
