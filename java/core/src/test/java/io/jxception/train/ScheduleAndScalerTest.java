package io.jxception.train;

import io.jxception.internal.train.LossScaler;
import io.jxception.backend.Precision;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class ScheduleAndScalerTest {
    @Test
    void stepDecayIsThePapersScheduleWithWarmup() {
        var s = new LearningRateSchedule.StepDecay(0.045, 0.94, 2, 0);
        assertEquals(0.045, s.rate(0, 100, 1000), 1e-15);
        assertEquals(0.045, s.rate(199, 100, 1000), 1e-15);
        assertEquals(0.045 * 0.94, s.rate(200, 100, 1000), 1e-15);
        assertEquals(0.045 * 0.94 * 0.94, s.rate(450, 100, 1000), 1e-15);
        var warm = new LearningRateSchedule.StepDecay(0.1, 0.5, 1, 10);
        assertEquals(0.01, warm.rate(0, 100, 1000), 1e-15);
        assertEquals(0.1, warm.rate(9, 100, 1000), 1e-15);
        assertEquals(0.05, warm.rate(100, 100, 1000), 1e-15);
    }

    @Test
    void cosineGoesFromBaseToMinimumOverTheRun() {
        var s = new LearningRateSchedule.Cosine(0.2, 0.0, 0);
        assertEquals(0.2, s.rate(0, 10, 100), 1e-15);
        assertEquals(0.1, s.rate(50, 10, 100), 1e-12);
        assertEquals(0.0, s.rate(100, 10, 100), 1e-15);
        double prev = Double.MAX_VALUE;
        for (int i = 0; i <= 100; i++) {
            double r = s.rate(i, 10, 100);
            assertTrue(r <= prev);
            prev = r;
        }
        assertThrows(IllegalArgumentException.class, () -> LearningRateSchedule.parse("linear", 0.1, 0.9, 1, 0));
    }

    @Test
    void dynamicLossScaleHalvesOnOverflowAndDoublesAfterCleanSteps() {
        LossScaler s = LossScaler.dynamic(1024f, 3);
        assertTrue(s.isDynamic());
        assertFalse(s.update(false), "an overflowing step is skipped");
        assertEquals(512f, s.scale());
        assertTrue(s.update(true));
        assertTrue(s.update(true));
        assertEquals(512f, s.scale());
        assertTrue(s.update(true));
        assertEquals(1024f, s.scale(), "doubles after 3 clean steps");
        assertTrue(s.update(true));
        assertFalse(s.update(false));
        assertTrue(s.update(true));
        assertTrue(s.update(true));
        assertEquals(512f, s.scale(), "an overflow restarts the clean-step count");
        assertEquals(2, s.skippedSteps());

        LossScaler restored = LossScaler.dynamic(1024f, 3);
        restored.restore(s.state());
        assertEquals(s.state(), restored.state());
        assertTrue(restored.update(true));
        assertTrue(s.update(true));
        assertEquals(s.state(), restored.state());
    }

    @Test
    void lossScalingIsOnForFp16Only() {
        assertTrue(LossScaler.forPrecision(Precision.FP16).isDynamic());
        assertEquals(LossScaler.INITIAL_SCALE, LossScaler.forPrecision(Precision.FP16).scale());
        for (Precision p : new Precision[]{Precision.FP32, Precision.TF32, Precision.BF16}) {
            assertFalse(LossScaler.forPrecision(p).isDynamic(), p.toString());
            assertEquals(1f, LossScaler.forPrecision(p).scale());
        }
        assertThrows(IllegalArgumentException.class, () -> LossScaler.dynamic(1000f, 10), "scales are powers of two");
    }

    @Test
    void scalerGivesUpBelowTheMinimumScale() {
        LossScaler s = LossScaler.dynamic(LossScaler.MIN_SCALE * 2, 10);
        assertFalse(s.update(false));
        ArithmeticException e = assertThrows(ArithmeticException.class, () -> s.update(false));
        assertTrue(e.getMessage().contains("diverged"), e.getMessage());
    }
}
