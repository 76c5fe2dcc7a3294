package io.jxception.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class SamplesTest {
    @Test
    void medianOfOddAndEvenCountsIgnoresOutliers() {
        Samples odd = Samples.of(new double[]{5, 1, 100, 2, 3});
        assertEquals(3, odd.median());
        assertEquals(1, odd.min());
        assertEquals(100, odd.max());
        assertEquals(5, odd.count());
        assertEquals(2.5, Samples.of(new double[]{4, 1, 2, 3}).median());
        assertThrows(IllegalArgumentException.class, () -> Samples.of(new double[0]));
    }
}
