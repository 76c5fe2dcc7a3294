package io.jxception.internal.exec;

import io.jxception.internal.exec.ForwardSession;
import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.Epilogue;
import io.jxception.internal.backend.LaunchRecording;
import io.jxception.model.Node;
import io.jxception.model.Value;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.tensor.Uint8Tensor;
import io.jxception.weights.XceptionWeights;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * Forward passes of one Xception on one backend. Construction uploads the weights once, with batch
 * norm folded into a per-channel scale/shift (scale = γ/√(var+ε), shift = β − mean·scale), and
 * allocates the activation slots of the {@link ActivationPlan} for {@code maxBatch} images.
 *
 * <p>On a backend that can record launches ({@link LaunchRecording}, CUDA graphs) the forward over
 * a given batch size runs eagerly the first time, is recorded the second time and replayed from then
 * on: one host call per forward instead of one per launch. {@link #runAll} streams many batches with
 * the copy of the next batch overlapping the forward of this one ({@link BatchPipeline}).
 * Not thread-safe: one session per thread (or per device stream). The engine behind the public
 * {@link io.jxception.exec.InferenceSession}; benchmarks and tests use its launch-level methods.
 */
public final class ForwardSession implements AutoCloseable {
    private final KernelBackend backend;
    private final XceptionGraph graph;
    private final int maxBatch;
    private final ActivationPlan plan;
    private final Buffer[] slots;              // slot -> (maxBatch · slotElementsPerImage)
    private final SessionBuffers buffers;
    private final Buffer[] w1, w2, scale, shift; // per node index; null where unused
    private final Buffer headKernel, headBias;   // (C, classes), (classes) when the top is included
    private final Buffer[] inputs = new Buffer[2]; // (maxBatch, H, W, 3): [0] the plan's input slot, [1] the pipeline's second, on first use
    private final boolean[] uint8Input = new boolean[2]; // inputs[k] holds raw uint8 pixels (uploadUint8), not float32 values
    private int currentInput;                      // which of inputs[] the stem reads
    private final LaunchRecording recorder;        // null: the backend cannot record, or replay is off
    private final Set<Long> warmedUp = new HashSet<>();   // (batch, input) keys that ran eagerly once
    private final Map<Long, LaunchRecording.Recording> recordings = new LinkedHashMap<>(); // oldest first
    private static final int MAX_RECORDINGS = 8;   // distinct (batch, input) pairs kept recorded
    private boolean closed;
    private java.util.concurrent.Executor inputCheckExecutor; // null: inputs are scanned on the calling thread

    /** A session that replays recorded forwards where the backend can ({@link LaunchRecording}). */
    public ForwardSession(KernelBackend backend, XceptionWeights weights, int maxBatch) {
        this(backend, weights, maxBatch, true);
    }

    /**
     * @param replayLaunches record each batch size's forward once and replay it, where the backend
     *                       can; false runs every launch from the host each time (for comparisons)
     */
    public ForwardSession(KernelBackend backend, XceptionWeights weights, int maxBatch, boolean replayLaunches) {
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
            // the whole working set, sized first and taken as one block where the backend can carve
            // one: per conv w1, w2 (separable), scale, shift; the head's kernel and bias; the slots
            List<WeightUpload> data = new ArrayList<>();
            float[][] head = new float[2][];
            for (int i = 0; i < nodes; i++) {
                Node n = graph.nodes().get(i);
                if (n instanceof Node.Conv c) {
                    FoldedConv f = FoldedConv.of(c, weights);
                    data.add(new WeightUpload(f.w1(), w1, i));
                    if (f.w2() != null) data.add(new WeightUpload(f.w2(), w2, i));
                    data.add(new WeightUpload(f.scale(), scale, i));
                    data.add(new WeightUpload(f.shift(), shift, i));
                } else if (n instanceof Node.Head h && h.dense()) {
                    head[0] = weights.get(h.name(), "kernel").data();
                    head[1] = weights.get(h.name(), "bias").data();
                }
            }
            int weightBuffers = data.size() + (head[0] != null ? 2 : 0);
            long[] sizes = new long[weightBuffers + slots.length];
            for (int k = 0; k < data.size(); k++) sizes[k] = data.get(k).values().length;
            if (head[0] != null) {
                sizes[data.size()] = head[0].length;
                sizes[data.size() + 1] = head[1].length;
            }
            for (int s = 0; s < slots.length; s++) sizes[weightBuffers + s] = (long) maxBatch * plan.slotElementsPerImage(s);
            Buffer[] all = buffers.allocAll(sizes);
            for (int k = 0; k < data.size(); k++) {
                WeightUpload u = data.get(k);
                u.into()[u.node()] = all[k];
                backend.upload(u.values(), all[k]);
            }
            if (head[0] != null) {
                hk = all[data.size()];
                hb = all[data.size() + 1];
                backend.upload(head[0], hk);
                backend.upload(head[1], hb);
            }
            System.arraycopy(all, weightBuffers, slots, 0, slots.length);
        } catch (RuntimeException e) {
            buffers.close();
            throw e;
        }
        headKernel = hk;
        headBias = hb;
        inputs[0] = slots[plan.slotOf(graph.input().id())];
        this.recorder = replayLaunches && backend instanceof LaunchRecording r ? r : null;
    }

    /** Host values for one weight buffer, and where the buffer goes: {@code into[node]}. */
    private record WeightUpload(float[] values, Buffer[] into, int node) {}

    /** Where large inputs are scanned for NaN/Inf before upload: chunks on {@code executor}, or the calling thread (null). */
    public void checkInputsOn(java.util.concurrent.Executor executor) { this.inputCheckExecutor = executor; }

    /** Whether forwards are recorded once per batch size and replayed (see the class comment). */
    public boolean replaysLaunches() { return recorder != null; }

    public XceptionGraph graph() { return graph; }

    public KernelBackend backend() { return backend; }

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
        int n = checkInput(input);
        currentInput = 0;
        backend.upload(input.data(), 0, inputs[0], 0, input.size());
        uint8Input[0] = false;
        return n;
    }

    /**
     * Runs raw 8-bit images (n, H, W, 3) NHWC, 0..255 before preprocessing, n ≤ maxBatch: they are
     * uploaded as bytes and the first kernel applies Keras' x/127.5 − 1 ({@link KernelBackend#convUint8}),
     * so the output equals {@link #run(Tensor)} of the preprocessed float input bit for bit.
     */
    public Tensor run(Uint8Tensor pixels) {
        int n = uploadUint8(pixels);
        enqueueForward(n, null);
        return output(n);
    }

    /** As {@link #upload} for raw 8-bit images: checks the shape, copies the bytes; returns n. */
    public int uploadUint8(Uint8Tensor pixels) {
        int n = checkInput(pixels);
        currentInput = 0;
        backend.uploadUint8(pixels.data(), 0, inputs[0], 0, pixels.size());
        uint8Input[0] = true;
        return n;
    }

    /** Validates a uint8 batch's shape (every byte is a valid pixel); returns n. */
    public int checkInput(Uint8Tensor pixels) { return checkShape(pixels.shape()); }

    /** Validates a batch like {@link #upload} without copying it; returns n. */
    public int checkInput(Tensor input) {
        int n = checkShape(input.shape());
        int bad = input.firstNonFinite(inputCheckExecutor);
        if (bad >= 0) throw new IllegalArgumentException("input holds a non-finite value (" + input.data()[bad] + ") at flat index " + bad);
        return n;
    }

    private int checkShape(Shape s) {
        if (closed) throw new IllegalStateException("session is closed");
        Value in = graph.input();
        if (s.rank() != 4 || s.dim(1) != in.h() || s.dim(2) != in.w() || s.dim(3) != 3) {
            throw new IllegalArgumentException("input has shape " + s + ", expected (N, " + in.h() + ", " + in.w() + ", 3) NHWC");
        }
        int n = s.dim(0);
        if (n < 1 || n > maxBatch) throw new IllegalArgumentException("batch of " + n + " images; this session takes 1 to " + maxBatch);
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
        backend.download(outputBuffer(), 0, out, 0, out.length);
        return checkedOutput(new Tensor(outShape, out));
    }

    /** The buffer the last node writes: (maxBatch, output elements per image). */
    public Buffer outputBuffer() { return value(graph.output().id()); }

    /** {@code result} if it is finite; else the error {@link #output} describes. */
    public Tensor checkedOutput(Tensor result) {
        float[] out = result.data();
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
     * ({@link KernelBackend#synchronize} waits). Benchmarks time this. A non-null {@code observer} is
     * handed each launch in graph order and runs it itself (or skips it: the launches after a
     * skipped one then read stale values).
     */
    public void enqueueForward(int n, LaunchObserver observer) {
        if (closed) throw new IllegalStateException("session is closed");
        if (n < 1 || n > maxBatch) throw new IllegalArgumentException("batch of " + n + " images; this session takes 1 to " + maxBatch);
        if (observer == null && recorder != null) {
            long key = 4L * n + (uint8Input[currentInput] ? 2 : 0) + currentInput;
            LaunchRecording.Recording r = recordings.get(key);
            if (r == null && warmedUp.contains(key)) {
                // the eager run before allocated whatever the ops allocate on first use
                if (recordings.size() == MAX_RECORDINGS) {
                    Long oldest = recordings.keySet().iterator().next();
                    recordings.remove(oldest).close();
                }
                r = recorder.record(() -> enqueueEagerly(n, null));
                recordings.put(key, r);
            }
            if (r != null) {
                r.replay();
                return;
            }
            warmedUp.add(key);
        }
        enqueueEagerly(n, observer);
    }

    private void enqueueEagerly(int n, LaunchObserver observer) {
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
        boolean readsInput = node.input() == graph.input().id();
        Buffer x = readsInput ? inputs[currentInput] : value(node.input());
        Buffer y = value(node.output());
        if (readsInput && uint8Input[currentInput]) {
            if (!(node instanceof Node.Conv c)) throw new IllegalStateException("uint8 input needs a convolution first, got " + node.name());
            var spec = NodeSpecs.conv(graph, c, n);
            Epilogue epilogue = new Epilogue(scale[index], shift[index], c.residual() >= 0 ? value(c.residual()) : null, c.postRelu());
            return () -> backend.convUint8(spec, x, w1[index], epilogue, y);
        }
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

    /**
     * Runs every batch of {@code batches} and hands {@code outputs} each result with its index, in
     * order. Where the backend has a copy queue ({@link io.jxception.internal.backend.OverlappedTransfers})
     * the copy of batch i+1 overlaps the forward of batch i; elsewhere batches run one after the
     * other. A bad batch (shape, size, non-finite value) stops the run with an error after every
     * earlier batch's output was handed over.
     *
     * @return the number of batches run
     */
    public int runAll(Iterator<Tensor> batches, BiConsumer<Integer, Tensor> outputs) {
        if (closed) throw new IllegalStateException("session is closed");
        return BatchPipeline.run(this, batches, outputs, BatchPipeline.FLOAT32);
    }

    /** {@link #runAll} for raw 8-bit images, each batch as {@link #run(Uint8Tensor)} takes it. */
    public int runAllUint8(Iterator<Uint8Tensor> batches, BiConsumer<Integer, Tensor> outputs) {
        if (closed) throw new IllegalStateException("session is closed");
        return BatchPipeline.run(this, batches, outputs, BatchPipeline.UINT8);
    }

    /** Input buffer {@code k} (0 or 1) for the pipeline; the second is allocated on first use. */
    public Buffer inputBuffer(int k) {
        if (inputs[k] == null) inputs[k] = buffers.alloc(inputs[0].elements());
        return inputs[k];
    }

    /** Makes the next forwards' stem read input buffer {@code k}. */
    public void selectInput(int k) { currentInput = k; }

    /** Records what input buffer {@code k} holds now: raw uint8 pixels (true) or float32 values. */
    public void markInput(int k, boolean uint8) { uint8Input[k] = uint8; }

    /** Frees this session's device memory; the backend stays open (the caller owns it). */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (LaunchRecording.Recording r : recordings.values()) r.close();
        recordings.clear();
        buffers.close();
    }
}
