package io.jxception.tensor;

import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.*;

class TensorTest {
    @Test
    void theFirstNonFiniteValueIsFoundInSmallAndInParallelScannedTensors() {
        Random r = new Random();
        for (int size : new int[]{1, 1000, Tensor.PARALLEL_SCAN + 12_345}) {
            float[] v = new float[size];
            for (int i = 0; i < size; i++) v[i] = r.nextFloat() * 2 - 1;
            Tensor t = new Tensor(Shape.of(size), v);
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                for (Executor e : new Executor[]{null, pool}) {
                    v[size - 1] = 0.5f;
                    if (size > 1) v[0] = 0.25f;
                    assertEquals(-1, t.firstNonFinite(e), "all finite, size " + size);
                    int late = size - 1, early = r.nextInt(size);
                    v[late] = Float.POSITIVE_INFINITY;
                    assertEquals(late, t.firstNonFinite(e), "size " + size);
                    v[early] = Float.NaN;   // the earlier one wins, whichever chunk finds it first
                    assertEquals(early, t.firstNonFinite(e), "size " + size);
                    assertEquals(early, t.firstNonFinite(), "size " + size);
                    v[0] = Float.NEGATIVE_INFINITY;
                    assertEquals(0, t.firstNonFinite(e), "size " + size);
                    v[early] = 0.75f;
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
