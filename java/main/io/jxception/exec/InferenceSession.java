package io.jxception.exec;

import io.jxception.backend.Backend;
import io.jxception.backend.Buffer;
import io.jxception.backend.Epilogue;
import io.jxception.model.Node;
import io.jxception.model.Value;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;

import java.util.List;

/**
 * Forward passes of one Xception on one backend. Construction uploads the weights once, with batch
 * norm folded into a per-channel scale/shift (scale = γ/√(var+ε), shift = β − mean·scale), and
 * allocates the activation slots of the {@link ActivationPlan} for {@code maxBatch} images.
 * Not thread-safe: one session per thread (or per device stream).
 */
public final class InferenceSession implements AutoCloseable {
    private final Backend backend;
    private final XceptionGraph graph;
    private final int maxBatch;
    private final ActivationPlan plan;
    private final Buffer[] slots;              // slot -> (maxBatch · slotElementsPerImage)
    private final SessionBuffers buffers;
    private final Buffer[] w1, w2, scale, shift; // per node index; null where unused
    private final Buffer headKernel, headBias;   // (C, classes), (classes) when the top is included
    private boolean closed;

    public InferenceSession(Backend backend, XceptionWeights weights, int maxBatch) {
        if (maxBatch < 1) throw new IllegalArgumentException("maxBatch must be at least 1, got " + maxBatch);
        this.backend = backend;
        this.buffers = new SessionBuffers(backend);
        this.graph = weights.graph();
        this.maxBatch = maxBatch;
        this.plan = ActivationPlan.of(graph);
        int nodes = graph.nodes().size();
        w1 = new Buffer[nodes];
        w2 = new Buffer[nodes];
        scale = new Buffer[nodes];
        shift = new Buffer[nodes];
        Buffer hk = null, hb = null;
        slots = new Buffer[plan.slots()];
        try {
            for (int i = 0; i < nodes; i++) {
                Node n = graph.nodes().get(i);
                if (n instanceof Node.Conv c) {
                    FoldedConv f = FoldedConv.of(c, weights);
                    w1[i] = buffers.upload(f.w1());
                    w2[i] = f.w2() == null ? null : buffers.upload(f.w2());
                    scale[i] = buffers.upload(f.scale());
                    shift[i] = buffers.upload(f.shift());
                } else if (n instanceof Node.Head h && h.dense()) {
                    hk = buffers.upload(weights.get(h.name(), "kernel").data());
                    hb = buffers.upload(weights.get(h.name(), "bias").data());
                }
            }
            for (int s = 0; s < slots.length; s++) slots[s] = buffers.alloc(maxBatch * plan.slotElementsPerImage(s));
        } catch (RuntimeException e) {
            buffers.close();
            throw e;
        }
        headKernel = hk;
        headBias = hb;
    }

    public XceptionGraph graph() { return graph; }

    public Backend backend() { return backend; }

    public int maxBatch() { return maxBatch; }

    /** Shape of the input this session takes for {@code n} images: (n, H, W, 3). */
    public Shape inputShape(int n) {
        Value in = graph.input();
        return Shape.of(n, in.h(), in.w(), in.c());
    }

    /** Shape of one batch's output: (n, classes), (n, C) pooled features, or (n, h, w, C). */
    public Shape outputShape(int n) {
        Value out = graph.output();
        return out.h() == 1 && out.w() == 1 && graph.nodes().get(graph.nodes().size() - 1) instanceof Node.Head
                ? Shape.of(n, out.c()) : Shape.of(n, out.h(), out.w(), out.c());
    }

    /**
     * Runs input (n, H, W, 3) NHWC, preprocessed (x/127.5 − 1), n ≤ maxBatch → output (see
     * {@link #outputShape}). Rejects wrong shapes and non-finite inputs; a non-finite output is an error.
     */
    public Tensor run(Tensor input) {
        int n = upload(input);
        enqueueForward(n, null);
        return output(n);
    }

    /**
     * Checks input (n, H, W, 3) NHWC like {@link #run} and copies it to the device for the next
     * {@link #enqueueForward}; returns n. Each forward needs its own upload: the input's slot is
     * reused by later values once the stem has read it.
     */
    public int upload(Tensor input) {
        if (closed) throw new IllegalStateException("session is closed");
        Shape s = input.shape();
        Value in = graph.input();
        if (s.rank() != 4 || s.dim(1) != in.h() || s.dim(2) != in.w() || s.dim(3) != 3) {
            throw new IllegalArgumentException("input has shape " + s + ", expected (N, " + in.h() + ", " + in.w() + ", 3) NHWC");
        }
        int n = s.dim(0);
        if (n < 1 || n > maxBatch) throw new IllegalArgumentException("batch of " + n + " images; this session takes 1 to " + maxBatch);
        int bad = input.firstNonFinite();
        if (bad >= 0) throw new IllegalArgumentException("input holds a non-finite value (" + input.data()[bad] + ") at flat index " + bad);
        backend.upload(input.data(), 0, slots[plan.slotOf(in.id())], 0, input.size());
        return n;
    }

    /**
     * Downloads the output of the last forward over {@code n} images (waiting for it); a non-finite
     * value is an error. {@link #run} ends with it; benchmarks call it after {@link #enqueueForward}.
     */
    public Tensor output(int n) {
        if (closed) throw new IllegalStateException("session is closed");
        if (n < 1 || n > maxBatch) throw new IllegalArgumentException("batch of " + n + " images; this session takes 1 to " + maxBatch);
        Shape outShape = outputShape(n);
        float[] out = new float[outShape.size()];
        backend.download(value(graph.output().id()), 0, out, 0, out.length);
        Tensor result = new Tensor(outShape, out);
        int nf = result.firstNonFinite();
        if (nf >= 0) {
            throw new ArithmeticException("the network produced a non-finite output (" + out[nf] + " at flat index " + nf
                    + ") on backend " + backend.name() + "; inputs and weights were finite, so the backend is faulty or overflowed");
        }
        return result;
    }

    /**
     * Enqueues the fused launches of one forward pass over the {@code n} images of the last
     * {@link #upload}: no transfers, no checks, and it may return before the device finishes
     * ({@link Backend#synchronize} waits). Benchmarks time this. A non-null {@code observer} is
     * handed each launch in graph order and runs it itself (or skips it: the launches after a
     * skipped one then read stale values).
     */
    public void enqueueForward(int n, LaunchObserver observer) {
        if (closed) throw new IllegalStateException("session is closed");
        if (n < 1 || n > maxBatch) throw new IllegalArgumentException("batch of " + n + " images; this session takes 1 to " + maxBatch);
        List<Node> nodes = graph.nodes();
        for (int i = 0; i < nodes.size(); i++) {
            Runnable launch = launch(i, n);
            if (observer == null) launch.run();
            else observer.launch(i, nodes.get(i), launch);
        }
    }

    /**
     * Node {@code index}'s fused launch over this session's buffers for {@code n} images. Its inputs
     * hold the right values only while the forward is at that node: later launches may reuse their
     * slots. To run one launch on its own, run the forward up to it first (an observer that skips
     * the launches after it).
     */
    public Runnable launch(int index, int n) {
        Node node = graph.nodes().get(index);
        Buffer x = value(node.input());
        Buffer y = value(node.output());
        if (node instanceof Node.Conv c) {
            Buffer residual = c.residual() >= 0 ? value(c.residual()) : null;
            Epilogue epilogue = new Epilogue(scale[index], shift[index], residual, c.postRelu());
            var spec = NodeSpecs.conv(graph, c, n);
            return () -> backend.conv(spec, x, w1[index], w2[index], epilogue, y);
        } else if (node instanceof Node.MaxPoolAdd p) {
            var spec = NodeSpecs.pool(graph, p, n);
            Buffer residual = value(p.residual());
            return () -> backend.maxPoolAdd(spec, x, residual, y);
        } else {
            var spec = NodeSpecs.head(graph, (Node.Head) node, n);
            return () -> backend.head(spec, x, headKernel, headBias, y);
        }
    }

    private Buffer value(int id) { return slots[plan.slotOf(id)]; }




    /** Frees this session's device memory; the backend stays open (the caller owns it). */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        buffers.close();
    }
}
