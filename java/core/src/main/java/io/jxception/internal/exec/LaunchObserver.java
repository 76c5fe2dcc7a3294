package io.jxception.internal.exec;

import io.jxception.model.Node;

/**
 * Sees each fused launch of {@link ForwardSession#enqueueForward} and runs it: once to time it
 * (a profiler brackets it with a clock), or several times. Running a launch again is harmless: a
 * node's output never aliases its inputs, so every launch is idempotent.
 */
@FunctionalInterface
public interface LaunchObserver {
    /** {@code launch} enqueues node {@code nodeIndex} of the graph for the forward's batch. */
    void launch(int nodeIndex, Node node, Runnable launch);
}
