package io.jxception.bench;

import io.jxception.internal.exec.ForwardSession;
import io.jxception.internal.backend.KernelBackend;
import io.jxception.backend.Backends;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The hook the suite times launches with: ForwardSession.enqueueForward and its LaunchObserver. */
class LaunchObserverTest {
    @Test
    void observerSeesEveryFusedLaunchOnceInGraphOrderAndReplayingLaunchesChangesNothing() {
        XceptionGraph graph = XceptionGraph.build(XceptionConfig.tiny(71, 10));
        XceptionWeights weights = XceptionWeights.random(graph, 3);
        try (KernelBackend cpu = KernelBackend.cpu(); ForwardSession session = new ForwardSession(cpu, weights, 2)) {
            Tensor input = Tensor.zeros(session.inputShape(2));
            Random rnd = new Random(5);
            for (int i = 0; i < input.size(); i++) input.data()[i] = rnd.nextFloat() * 2 - 1;
            Tensor expected = session.run(input);

            List<String> seen = new ArrayList<>();
            session.upload(input); // the input's slot is reused by later values: every forward uploads
            session.enqueueForward(2, (index, node, launch) -> {
                assertSame(graph.nodes().get(index), node);
                seen.add(index + ":" + node.name());
                launch.run();
                launch.run(); // outputs never alias inputs: a launch may run again while the forward is at it
            });
            List<String> all = new ArrayList<>();
            for (int i = 0; i < graph.nodes().size(); i++) all.add(i + ":" + graph.nodes().get(i).name());
            assertEquals(all, seen);
            assertArrayEquals(expected.data(), session.output(2).data(), 0f, "replayed launches give the same output");

            // one launch alone, as the JMH benchmarks run it: the forward up to it, then the launch again and again
            int middle = 20;
            session.upload(input);
            session.enqueueForward(2, (index, node, launch) -> { if (index <= middle) launch.run(); });
            Runnable one = session.launch(middle, 2);
            for (int i = 0; i < 3; i++) one.run();
            session.enqueueForward(2, (index, node, launch) -> { if (index > middle) launch.run(); });
            assertArrayEquals(expected.data(), session.output(2).data(), 0f, "the rest of the forward still computes the same");

            assertThrows(IllegalArgumentException.class, () -> session.enqueueForward(3, null), "batch above maxBatch");
        }
    }
}
