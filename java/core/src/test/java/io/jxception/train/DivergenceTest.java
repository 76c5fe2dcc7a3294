package io.jxception.train;

import io.jxception.internal.train.Checkpoint;
import io.jxception.model.XceptionGraph;
import io.jxception.model.XceptionConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class DivergenceTest {
    /**
     * A learning rate of 1e20 blows the network up on its second step (the first step's loss is
     * computed before any update). The run stops naming the step; the checkpoint written after step 1
     * is still there, complete and finite, and no temporary file is left behind.
     */
    @Test
    void nonFiniteLossStopsTheRunNamingTheStepAndKeepsTheLastCheckpoint(@TempDir Path out) throws IOException {
        TrainOptions o = Runs.small(out).epochs(1).learningRate(new LearningRateSchedule.Constant(1e20, 0)).checkpointEvery(1).build();
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> Runs.train(o, null));
        assertEquals(2, e.step(), e.getMessage());
        assertTrue(e.getMessage().startsWith("training diverged at step 2 (epoch 1, batch 2): the loss is not finite"), e.getMessage());
        assertTrue(e.getMessage().contains("the last good checkpoint " + out.resolve(Trainer.CHECKPOINT) + " is kept"), e.getMessage());

        XceptionGraph graph = XceptionGraph.build(new XceptionConfig(71, 71, 10, true, null, 1.0 / 16, 1));
        Checkpoint last = Checkpoint.read(out.resolve(Trainer.CHECKPOINT), graph); // checks every value is finite
        assertEquals(1, last.state().step());
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(java.util.List.of(Trainer.CHECKPOINT), files.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void divergenceBeforeTheFirstCheckpointSaysSo(@TempDir Path out) {
        TrainOptions o = Runs.small(out).epochs(1).learningRate(new LearningRateSchedule.Constant(1e20, 0)).checkpointEvery(0).build();
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> Runs.train(o, null));
        assertTrue(e.getMessage().contains("no checkpoint was written yet"), e.getMessage());
    }
}
