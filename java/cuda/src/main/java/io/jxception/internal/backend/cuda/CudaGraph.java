package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.LaunchRecording;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.JCudaDriver;

/**
 * A captured and instantiated sequence of launches ({@link CudaBackend#beginCapture()} ..
 * {@link CudaBackend#endCapture()}), replayed with {@link CudaBackend#replay(CudaGraph)}. The
 * launches read and write the same buffers each replay: upload new inputs into the captured input
 * buffer first. Closed by its backend's close() at the latest.
 */
public final class CudaGraph implements LaunchRecording.Recording {
    private final CudaBackend owner;
    final CUgraph graph;
    final CUgraphExec exec;
    final int launches;
    private boolean closed;

    CudaGraph(CudaBackend owner, CUgraph graph, CUgraphExec exec, int launches) {
        this.owner = owner;
        this.graph = graph;
        this.exec = exec;
        this.launches = launches;
    }

    /** Kernel launches captured. */
    @Override public int launches() { return launches; }

    /** Enqueues the captured launches once on the owner's stream ({@link CudaBackend#replay}). */
    @Override public void replay() { owner.replay(this); }

    boolean isClosed() { return closed; }

    CudaBackend owner() { return owner; }

    @Override public void close() {
        if (closed) return;
        closed = true;
        owner.bind();
        JCudaDriver.cuGraphExecDestroy(exec);
        JCudaDriver.cuGraphDestroy(graph);
        owner.forget(this);
    }
}
