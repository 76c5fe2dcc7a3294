package io.jxception.internal.exec;

import io.jxception.distributed.Communicator;
import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.backend.BatchNormSpec;
import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.Epilogue;
import io.jxception.internal.backend.LaunchRecording;
import io.jxception.internal.backend.OverlappedTransfers;
import io.jxception.internal.backend.WeightUpdate;
import io.jxception.model.ConvKind;
import io.jxception.model.Node;
import io.jxception.model.ParamSpec;
import io.jxception.model.Value;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Forward (batch norm in training mode) and backward passes of one Xception with the top, plus SGD
 * with momentum, on one backend. Every weight, its gradient and its momentum live on the device;
 * every activation is kept for the backward pass (no reuse), which also stores the pre-BN conv
 * output z and the batch statistics of each conv node.
 *
 * <p>On a backend that can record launches ({@link LaunchRecording}, CUDA graphs) a training process
 * of its own replays the forward and backward passes: the first step with a given loss scale runs
 * eagerly, the second records its launches (about a thousand on Xception) and every later one replays
 * them with one host call. The optimizer step is one {@link WeightUpdate} (one launch on CUDA), so a
 * step costs the host a handful of calls: uploads, one replay, the loss download, unscale, SGD.
 * Data-parallel sessions ({@link #joinReplicas}) run eagerly: their backward pass talks to the other
 * processes between launches.
 *
 * <p>Two input slots let the copy of the next batch run while this step computes: {@link #stage} the
 * next batch after {@link #enqueueStep} and before {@link #awaitLoss}. On a backend with a copy queue
 * ({@link OverlappedTransfers}) the copy then overlaps the step; elsewhere it is a plain upload.
 * {@link #forwardBackward(Tensor, int[], float)} is stage, enqueueStep and awaitLoss in one call.
 * {@link #deferStep} instead of awaitLoss lets the host go on enqueueing steps and read their losses
 * and probabilities later ({@link StepOutputs}): no wait for the device per step.
 */
public final class TrainingSession implements AutoCloseable {
    private final KernelBackend backend;
    private final XceptionGraph graph;
    private final int batch;
    private final SessionBuffers buffers;
    /** Device copy of every weight by Keras key, Keras memory order. */
    private final Map<String, Buffer> params = new LinkedHashMap<>();
    /** Gradient of every trainable weight by Keras key (same shape as the weight). */
    private final Map<String, Buffer> grads = new LinkedHashMap<>();
    private final Map<String, Buffer> velocity = new LinkedHashMap<>();
    private final Set<String> frozen;
    private final Buffer[] act;          // value id -> (batch, h, w, c)
    private final Buffer[] gradOwn;      // value id -> d loss / d value, same shape
    private final Buffer[] z;            // node index -> pre-BN conv output (batch, h, w, cout)
    private final Buffer[] mean, invStd; // node index -> (cout)
    private final Buffer scratch;        // (largest value) for gradient accumulation
    private final Buffer dz;             // (largest conv output)
    private final Buffer probs, loss;    // (batch, classes), (batch)
    /** Input slots: images (batch, H, W, 3) fp32 and labels (batch) as floats; [1] allocated on first use. act[0] is the slot of the step being enqueued. */
    private final Buffer[] inputSlots = new Buffer[2], labelSlots = new Buffer[2];
    /** [k]: the end of the last step that read slot k (the copy of a batch into slot k waits for it), or null. */
    private final OverlappedTransfers.Fence[] slotFences = new OverlappedTransfers.Fence[2];
    private int stagedSlot = -1;         // the slot holding the batch the next enqueueStep trains on, or -1
    private int runningSlot = -1;        // the slot of the last enqueued step
    private boolean lossPending;         // a step is enqueued whose loss neither awaitLoss nor deferStep has taken
    private boolean stepInFlight;        // a step was enqueued and the host has not waited for it since (awaitLoss)
    private final Buffer overflow;       // (1) set to 1 by unscaleGradient when a gradient is Inf/NaN
    private final Node.Head head;
    private boolean haveGradients, closed;
    /** The processes this session trains with (data parallelism), or null: it trains alone. */
    private Communicator replicas;
    private boolean syncBatchNorm;
    private GradientExchange exchange;
    /** The optimizer over every weight with a gradient: stepped where trainable and not frozen. */
    private final WeightUpdate update;
    private final LaunchRecording recorder;               // null: the backend cannot record, or replay is off
    private final Set<Long> warmedUp = new HashSet<>();   // (loss scale bits, input slot) keys whose step ran eagerly once
    private final Map<Long, LaunchRecording.Recording> recordings = new LinkedHashMap<>(); // oldest first
    private static final int MAX_RECORDINGS = 8;          // a dynamic loss scale moves between a few values, 2 slots each
    private int lastReplayLaunches = -1;

    public TrainingSession(KernelBackend backend, XceptionWeights weights, int batch) {
        this(backend, weights, batch, Set.of());
    }

    public TrainingSession(KernelBackend backend, XceptionWeights weights, int batch, Set<String> frozenLayers) {
        this(backend, weights, batch, frozenLayers, true);
    }

    /**
     * @param frozenLayers Keras layer names whose weights are not updated by {@link #sgdStep} (their
     *                     batch norms still run in training mode and update moving statistics)
     * @param replayLaunches record the forward and backward passes once per loss scale and replay them,
     *                       where the backend can; false enqueues every launch from the host each step
     */
    public TrainingSession(KernelBackend backend, XceptionWeights weights, int batch, Set<String> frozenLayers, boolean replayLaunches) {
        if (batch < 1) throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        this.backend = backend;
        this.buffers = new SessionBuffers(backend);
        this.graph = weights.graph();
        this.batch = batch;
        this.frozen = Set.copyOf(frozenLayers);
        Node last = graph.nodes().get(graph.nodes().size() - 1);
        if (!(last instanceof Node.Head h) || !h.dense()) {
            throw new IllegalArgumentException("training needs the classification top (includeTop); this configuration has none");
        }
        this.head = h;
        int nv = graph.values().size(), nn = graph.nodes().size();
        act = new Buffer[nv];
        gradOwn = new Buffer[nv];
        z = new Buffer[nn];
        mean = new Buffer[nn];
        invStd = new Buffer[nn];
        try {
            for (ParamSpec p : graph.params()) {
                params.put(p.key(), buffers.upload(weights.get(p.key()).data()));
                if (p.trainable()) grads.put(p.key(), buffers.alloc(p.elements()));
            }
            long largest = 0, largestConv = 0;
            // activations, their gradients, z, scratch and dz hold only what kernels write as activations:
            // 16-bit in BF16/FP16 mode on a backend that stores them so (half of the session's memory)
            for (Value v : graph.values()) {
                long e = batch * v.elementsPerImage();
                act[v.id()] = v.id() == 0 ? buffers.alloc(e) : buffers.allocActivations(e);   // the input is an exact fp32 upload
                gradOwn[v.id()] = v.id() == 0 ? null : buffers.allocActivations(e);
                largest = Math.max(largest, e);
            }
            for (int i = 0; i < nn; i++) {
                if (graph.nodes().get(i) instanceof Node.Conv c) {
                    long e = batch * graph.values().get(c.output()).elementsPerImage();
                    z[i] = buffers.allocActivations(e);
                    mean[i] = buffers.alloc(c.cout());
                    invStd[i] = buffers.alloc(c.cout());
                    largestConv = Math.max(largestConv, e);
                }
            }
            scratch = buffers.allocActivations(largest);
            dz = buffers.allocActivations(largestConv);
            inputSlots[0] = act[0];
            labelSlots[0] = buffers.alloc(batch);
            probs = buffers.alloc((long) batch * h.classes());
            loss = buffers.alloc(batch);
            overflow = buffers.alloc(1);
            List<WeightUpdate.Weight> ws = new ArrayList<>();
            for (ParamSpec p : graph.params()) {
                Buffer g = grads.get(p.key());
                if (g == null) continue;
                Buffer v = null;
                if (!frozen.contains(p.layer())) {   // zeros: the first step's momentum is its gradient
                    v = buffers.upload(new float[p.shape().size()]);
                    velocity.put(p.key(), v);
                }
                ws.add(new WeightUpdate.Weight(params.get(p.key()), g, v, p.elements(), p.weight().endsWith("kernel")));
            }
            update = backend.weightUpdate(ws);
        } catch (RuntimeException e) {
            buffers.close();
            throw e;
        }
        this.recorder = replayLaunches && backend instanceof LaunchRecording r ? r : null;
    }

    public XceptionGraph graph() { return graph; }

    public int batch() { return batch; }

    /**
     * Makes this session one of {@code comm.size()} replicas that train one model, each on its own
     * {@code batch} images (data parallelism). Every {@link #forwardBackward} then ends with the
     * gradients summed over the replicas ({@link GradientExchange}: buckets of about
     * {@code bucketBytes}, started while the backward pass goes on); the caller passes a loss scale
     * of 1/N so the sum is the gradient of the mean loss over all N·batch images. Frozen layers'
     * gradients are not exchanged (they are never applied).
     *
     * <p>Batch norm: with {@code syncBatchNorm}, every batch norm computes its statistics over all
     * replicas' rows (its per-channel sums allreduced, {@link KernelBackend#batchNormSums}), so that
     * N replicas of batch B compute what one session of batch N·B computes, and the batch norms'
     * γ/β gradients come out summed already (they stay out of the buckets). Without it each replica
     * normalises by its own batch (PyTorch DDP's default) and the moving statistics are averaged
     * over the replicas after each forward pass, so that every replica keeps the same weights.
     *
     * <p>Every replica calls this, and then every collective of a step, in the same order: the
     * replicas' sessions must be built alike (same network, batch, frozen layers).
     *
     * @return the exchange, for its per-step times and bucket layout
     */
    public GradientExchange joinReplicas(Communicator comm, boolean syncBatchNorm, long bucketBytes) {
        return joinReplicas(comm, syncBatchNorm, bucketBytes, true);
    }

    /**
     * {@link #joinReplicas(Communicator, boolean, long)}; {@code overlap} false sums the buckets with
     * blocking allreduces after the backward pass instead of starting each as soon as it is final.
     */
    public GradientExchange joinReplicas(Communicator comm, boolean syncBatchNorm, long bucketBytes, boolean overlap) {
        if (closed) throw new IllegalStateException("session is closed");
        if (replicas != null) throw new IllegalStateException("this session already trains with " + replicas.size() + " replicas");
        this.replicas = java.util.Objects.requireNonNull(comm, "comm");
        this.syncBatchNorm = syncBatchNorm;
        List<GradientExchange.Named> order = new ArrayList<>(), moving = new ArrayList<>();
        List<Node> nodes = graph.nodes();
        for (String key : exchangedGradients(head)) order.add(named(grads, key));
        for (int i = nodes.size() - 1; i >= 0; i--) {
            if (nodes.get(i) instanceof Node.Conv c) for (String key : exchangedGradients(c)) order.add(named(grads, key));
        }
        if (!syncBatchNorm) {
            for (Node n : nodes) {
                if (n instanceof Node.Conv c) {
                    moving.add(named(params, c.bnLayer() + "/moving_mean"));
                    moving.add(named(params, c.bnLayer() + "/moving_variance"));
                }
            }
        }
        exchange = new GradientExchange(backend, comm, order, moving, bucketBytes, overlap);
        return exchange;
    }

    /** The gradients of a node that the exchange sums, in the order its backward finishes them (BN γ, β; then the conv's weights). */
    private List<String> exchangedGradients(Node node) {
        List<String> keys = new ArrayList<>();
        if (node instanceof Node.Head h) {
            keys.add(h.name() + "/kernel");
            keys.add(h.name() + "/bias");
        } else if (node instanceof Node.Conv c) {
            if (!syncBatchNorm) {
                keys.add(c.bnLayer() + "/gamma");
                keys.add(c.bnLayer() + "/beta");
            }
            if (c.kind() == ConvKind.SEPARABLE3X3_SAME) {
                keys.add(c.name() + "/depthwise_kernel");
                keys.add(c.name() + "/pointwise_kernel");
            } else {
                keys.add(c.name() + "/kernel");
            }
        }
        keys.removeIf(k -> !grads.containsKey(k) || frozen.contains(graph.param(k).layer()));
        return keys;
    }

    private GradientExchange.Named named(Map<String, Buffer> m, String key) {
        return new GradientExchange.Named(key, m.get(key), Math.toIntExact(graph.param(key).elements()));
    }

    /**
     * One forward pass in training mode and the backward pass: returns the mean softmax cross-entropy
     * of the batch and leaves the gradients of every trainable weight on the device. Moving statistics
     * are updated as in Keras.
     */
    public double forwardBackward(Tensor input, int[] labelIndices) {
        return forwardBackward(input, labelIndices, 1f);
    }

    /**
     * {@link #forwardBackward(Tensor, int[])} with the backward pass run on {@code lossScale}·loss
     * (mixed-precision loss scaling: keeps fp16 gradients above the subnormal range). The head's
     * training op applies the scale to d loss / d logits in fp32, before any 16-bit gradient is
     * stored. The gradients left on the device are those of the scaled loss; {@link #unscaleGradients} divides them back
     * before {@link #sgdStep}. Returns the unscaled mean loss. A power-of-two scale is exact in fp32.
     */
    public double forwardBackward(Tensor input, int[] labelIndices, float lossScale) {
        stage(input, labelIndices);
        enqueueStep(lossScale);
        return awaitLoss();
    }

    /**
     * Copies a batch into an input slot that no step still in flight reads, for the next
     * {@link #enqueueStep}. Called between enqueueStep and {@link #awaitLoss}, its copy runs while that
     * step computes (on a backend with a copy queue; it starts after the last step that read the slot).
     * Returns once the host arrays may be reused. Staging again before the next step replaces the batch.
     */
    public void stage(Tensor input, int[] labelIndices) {
        if (closed) throw new IllegalStateException("session is closed");
        checkInput(input, labelIndices);
        // slot 0, unless a step that may still run reads it: then slot 1 (the copy overlaps that step)
        int slot = stepInFlight && runningSlot == 0 ? 1 : 0;
        if (inputSlots[slot] == null) {
            inputSlots[slot] = buffers.alloc(input.size());
            labelSlots[slot] = buffers.alloc(batch);
        }
        float[] lab = new float[batch];
        for (int i = 0; i < batch; i++) lab[i] = labelIndices[i];
        if (backend instanceof OverlappedTransfers t) {
            t.uploadAsync(input.data(), 0, inputSlots[slot], 0, input.size(), slotFences[slot]);
            t.uploadAsync(lab, 0, labelSlots[slot], 0, batch, slotFences[slot]);
        } else {
            backend.upload(input.data(), 0, inputSlots[slot], 0, input.size());
            backend.upload(lab, labelSlots[slot]);
        }
        stagedSlot = slot;
    }

    /**
     * Enqueues the forward pass in training mode and the backward pass on the batch given to the last
     * {@link #stage}, with the backward run on {@code lossScale}·loss (see {@link #forwardBackward(Tensor,
     * int[], float)}), and returns without waiting (a data-parallel session waits for the exchange). Replays
     * the step's recording where there is one. {@link #awaitLoss} then reads the loss.
     */
    public void enqueueStep(float lossScale) {
        if (closed) throw new IllegalStateException("session is closed");
        if (!(lossScale > 0) || Float.isInfinite(lossScale)) throw new IllegalArgumentException("loss scale must be positive and finite, got " + lossScale);
        if (stagedSlot < 0) throw new IllegalStateException("no batch staged: call stage (or forwardBackward with a batch) first");
        if (lossPending) throw new IllegalStateException("the previous step's loss was not read: call awaitLoss or deferStep first");
        int slot = stagedSlot;
        stagedSlot = -1;
        act[0] = inputSlots[slot];
        lastReplayLaunches = -1;
        if (recorder != null && exchange == null) {
            long key = ((long) Float.floatToIntBits(lossScale) << 1) | slot;   // a recording reads one slot's buffers
            LaunchRecording.Recording r = recordings.get(key);
            if (r == null && warmedUp.contains(key)) {
                if (recordings.size() == MAX_RECORDINGS) {
                    Long oldest = recordings.keySet().iterator().next();
                    recordings.remove(oldest).close();
                }
                r = recorder.record(() -> enqueueForwardBackward(lossScale, labelSlots[slot]));
                recordings.put(key, r);
            }
            if (r != null) {
                r.replay();
                lastReplayLaunches = r.launches();
            } else {
                enqueueForwardBackward(lossScale, labelSlots[slot]);
                warmedUp.add(key);
            }
        } else {
            enqueueForwardBackward(lossScale, labelSlots[slot]);
        }
        if (backend instanceof OverlappedTransfers t) {
            if (slotFences[slot] != null) slotFences[slot].close();
            slotFences[slot] = t.fence();   // the next copy into this slot waits for this step's reads
        }
        runningSlot = slot;
        haveGradients = true;
        lossPending = true;
        stepInFlight = true;
    }

    /** Waits for the step {@link #enqueueStep} enqueued and returns its mean loss (unscaled). */
    public double awaitLoss() {
        if (!lossPending) throw new IllegalStateException("no step enqueued: call enqueueStep first");
        lossPending = false;
        float[] l = new float[batch];
        backend.download(loss, l);
        stepInFlight = false;
        return StepOutputs.meanLoss(l);
    }

    /**
     * Instead of {@link #awaitLoss}: enqueues the copy of the enqueued step's per-example loss and
     * probabilities to the host behind the step and returns without waiting, so that the host can go
     * on enqueueing (the optimizer step, the next batch) and read the results of several steps at
     * once. On a backend without a copy queue ({@link OverlappedTransfers}) the values are read here.
     * The caller closes what it gets (it holds page-locked memory on CUDA).
     */
    public StepOutputs deferStep() {
        if (!lossPending) throw new IllegalStateException("no step enqueued: call enqueueStep first");
        lossPending = false;
        int classes = head.classes();
        if (backend instanceof OverlappedTransfers t) {
            OverlappedTransfers.PendingDownload l = t.downloadAsync(loss, 0, batch);
            try {
                return new StepOutputs(batch, classes, l, t.downloadAsync(probs, 0, batch * classes));
            } catch (RuntimeException e) {
                l.close();
                throw e;
            }
        }
        float[] l = new float[batch], p = new float[batch * classes];
        backend.download(loss, l);
        backend.download(probs, p);
        return new StepOutputs(batch, classes, l, p);
    }

    /**
     * Kernel launches of the recording the last {@link #forwardBackward} replayed, or -1 when it ran
     * eagerly (first step of a loss scale, no recording backend, replay off, data parallel).
     */
    public int replayedLaunches() { return lastReplayLaunches; }

    /** Whether steps are recorded and replayed (the backend can record and replay is on); data-parallel steps never are. */
    public boolean replaysLaunches() { return recorder != null; }

    /** Enqueues the forward pass in training mode (input act[0]) and the backward pass: only device ops (and the exchange's calls). */
    private void enqueueForwardBackward(float lossScale, Buffer labels) {
        List<Node> nodes = graph.nodes();
        Buffer[] grad = gradOwn.clone();
        boolean[] has = new boolean[grad.length];
        if (exchange != null) exchange.beginStep();
        // ---- forward
        for (int i = 0; i < nodes.size(); i++) {
            Node node = nodes.get(i);
            if (node instanceof Node.Conv c) {
                Buffer[] w = weightsOf(c, params);
                backend.conv(NodeSpecs.conv(graph, c, batch), act[c.input()], w[0], w[1], Epilogue.NONE, z[i]);
                if (syncBatchNorm) {
                    synchronisedBatchNorm(c, i);
                } else {
                    backend.batchNormTrain(NodeSpecs.batchNorm(graph, c, batch), z[i], params.get(c.bnLayer() + "/gamma"),
                            params.get(c.bnLayer() + "/beta"), c.residual() >= 0 ? act[c.residual()] : null, act[c.output()],
                            mean[i], invStd[i], params.get(c.bnLayer() + "/moving_mean"), params.get(c.bnLayer() + "/moving_variance"));
                }
            } else if (node instanceof Node.MaxPoolAdd p) {
                backend.maxPoolAdd(NodeSpecs.pool(graph, p, batch), act[p.input()], act[p.residual()], act[p.output()]);
            } else if (node instanceof Node.Head h) {
                backend.headTrain(NodeSpecs.head(graph, h, batch), act[h.input()], params.get(h.name() + "/kernel"),
                        params.get(h.name() + "/bias"), labels, probs, loss, grad[h.input()],
                        grads.get(h.name() + "/kernel"), grads.get(h.name() + "/bias"), lossScale);
                has[h.input()] = true;
            }
        }
        if (exchange != null) {
            exchange.forwardDone();
            readyForExchange(head);
        }
        // ---- backward, in reverse topological order
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node node = nodes.get(i);
            if (node instanceof Node.Head) continue;
            Buffer dy = grad[node.output()];
            if (!has[node.output()]) throw new IllegalStateException("no gradient reached " + node.name());
            if (node instanceof Node.Conv c) {
                BatchNormSpec bn = NodeSpecs.batchNorm(graph, c, batch);
                boolean residualNeedsMask = c.residual() >= 0 && c.postRelu();
                Buffer dyMasked = residualNeedsMask ? target(grad, has, c.residual()) : null;
                if (syncBatchNorm) {
                    synchronisedBatchNormBackward(c, i, bn, dy, dyMasked);
                } else {
                    backend.batchNormTrainBackward(bn, z[i], act[c.output()], dy, params.get(c.bnLayer() + "/gamma"),
                            mean[i], invStd[i], dz, dyMasked, grads.get(c.bnLayer() + "/gamma"), grads.get(c.bnLayer() + "/beta"));
                }
                if (residualNeedsMask) accumulate(grad, has, c.residual());
                else if (c.residual() >= 0) passThrough(grad, has, c.residual(), dy);
                Buffer[] w = weightsOf(c, params), dw = weightsOf(c, grads);
                Buffer dx = c.input() == 0 ? null : target(grad, has, c.input());
                backend.convBackward(NodeSpecs.conv(graph, c, batch), act[c.input()], w[0], w[1], dz, dx, dw[0], dw[1]);
                if (dx != null) accumulate(grad, has, c.input());
                readyForExchange(c);
            } else if (node instanceof Node.MaxPoolAdd p) {
                Buffer dx = target(grad, has, p.input());
                backend.maxPoolBackward(NodeSpecs.pool(graph, p, batch), act[p.input()], dy, dx);
                accumulate(grad, has, p.input());
                passThrough(grad, has, p.residual(), dy);
            }
            if (exchange != null) exchange.progress();
        }
        if (exchange != null) exchange.finish();
    }

    /**
     * Divides every gradient by {@code lossScale} on the device (undoing {@link #forwardBackward(Tensor,
     * int[], float)}) and reports whether all of them are finite; when not, the caller skips
     * {@link #sgdStep}. One flag collects the check of every gradient: the host reads 4 bytes.
     */
    public boolean unscaleGradients(float lossScale) {
        if (!haveGradients) throw new IllegalStateException("no gradients yet: call forwardBackward first");
        if (!(lossScale > 0) || Float.isInfinite(lossScale)) throw new IllegalArgumentException("loss scale must be positive and finite, got " + lossScale);
        backend.upload(new float[]{0f}, overflow);
        update.unscale(1f / lossScale, overflow);
        float[] flag = new float[1];
        backend.download(overflow, flag);
        return flag[0] == 0f;
    }

    /** Probabilities (batch, classes) of the last {@link #forwardBackward}. */
    public Tensor probabilities() {
        float[] p = new float[batch * head.classes()];
        backend.download(probs, p);
        return new Tensor(Shape.of(batch, head.classes()), p);
    }

    /** Gradients of the trainable weights from the last {@link #forwardBackward}, by Keras key. */
    public Map<String, Tensor> gradients() {
        if (!haveGradients) throw new IllegalStateException("no gradients yet: call forwardBackward first");
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (ParamSpec p : graph.params()) {
            Buffer g = grads.get(p.key());
            if (g != null) out.put(p.key(), download(g, p.shape()));
        }
        return out;
    }

    /**
     * SGD with momentum on every trainable, non-frozen weight. Weight decay (L2, added to the
     * gradient) applies to kernels only, not to batch-norm γ/β or the dense bias.
     */
    public void sgdStep(float learningRate, float momentum, float weightDecay) {
        if (!haveGradients) throw new IllegalStateException("no gradients yet: call forwardBackward first");
        update.sgd(learningRate, momentum, weightDecay);
    }

    /** The current weights, moving statistics included. */
    public XceptionWeights weights() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (ParamSpec p : graph.params()) m.put(p.key(), download(params.get(p.key()), p.shape()));
        return new XceptionWeights(graph, m);
    }

    /**
     * Replaces every weight, moving statistics included (e.g. with a checkpoint's). A backend that
     * keeps wider state than fp32 (the float64 reference) continues from exactly these fp32 values.
     */
    public void setWeights(XceptionWeights w) {
        if (closed) throw new IllegalStateException("session is closed");
        if (!w.graph().config().equals(graph.config())) {
            throw new IllegalArgumentException("weights are for " + w.graph().config() + ", this session runs " + graph.config());
        }
        for (ParamSpec p : graph.params()) backend.upload(w.get(p.key()).data(), params.get(p.key()));
    }

    /** Momentum buffers by Keras key (zeros for weights not yet stepped), for checkpoints. */
    public Map<String, Tensor> velocities() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (ParamSpec p : graph.params()) {
            if (!p.trainable()) continue;
            Buffer v = velocity.get(p.key());
            m.put(p.key(), v == null ? Tensor.zeros(p.shape()) : download(v, p.shape()));
        }
        return m;
    }

    /** Restores momentum buffers (e.g. from a checkpoint). */
    public void setVelocities(Map<String, Tensor> v) {
        for (Map.Entry<String, Tensor> e : v.entrySet()) {
            ParamSpec p = graph.param(e.getKey());
            if (!e.getValue().shape().equals(p.shape())) throw new IllegalArgumentException("velocity " + p.key() + " has shape " + e.getValue().shape() + ", expected " + p.shape());
            Buffer b = velocity.get(p.key());
            if (b == null) {
                b = buffers.alloc(p.elements());
                velocity.put(p.key(), b);
            }
            backend.upload(e.getValue().data(), b);
        }
    }

    /** The device buffer of a weight, for float64 gradient checks on the reference backend. */
    public Buffer paramBuffer(String key) {
        Buffer b = params.get(key);
        if (b == null) throw new IllegalArgumentException("no weight " + key);
        return b;
    }

    /** The device buffer of a trainable weight's gradient, for tests that emulate a gradient exchange. */
    public Buffer gradientBuffer(String key) {
        Buffer b = grads.get(key);
        if (b == null) throw new IllegalArgumentException("no gradient of " + key + " (not a trainable weight)");
        return b;
    }

    /** Per-example losses (batch) of the last forward pass, for float64 gradient checks. */
    public Buffer lossBuffer() { return loss; }

    /** Tells the exchange that a node's gradients are final (its backward, or the head's training op, is done). */
    private void readyForExchange(Node node) {
        if (exchange == null) return;
        for (String key : exchangedGradients(node)) exchange.ready(key);
    }

    /**
     * Training-mode batch norm of conv node i with the statistics of every replica: Σz, then
     * Σ(z − mean)², each summed over the replicas (c values), over R = replicas·rows rows.
     */
    private void synchronisedBatchNorm(Node.Conv c, int i) {
        BatchNormSpec bn = NodeSpecs.batchNorm(graph, c, batch);
        int channels = bn.channels();
        double rows = (double) bn.rows() * replicas.size();
        double[] sums = new double[channels], batchMean = new double[channels], batchVariance = new double[channels];
        backend.batchNormSums(bn, z[i], null, sums);
        allreduceChannels(sums);
        for (int ch = 0; ch < channels; ch++) batchMean[ch] = sums[ch] / rows;
        backend.batchNormSums(bn, z[i], batchMean, sums);
        allreduceChannels(sums);
        for (int ch = 0; ch < channels; ch++) batchVariance[ch] = sums[ch] / rows;
        backend.batchNormApply(bn, z[i], batchMean, batchVariance, params.get(c.bnLayer() + "/gamma"), params.get(c.bnLayer() + "/beta"),
                c.residual() >= 0 ? act[c.residual()] : null, act[c.output()], mean[i], invStd[i],
                params.get(c.bnLayer() + "/moving_mean"), params.get(c.bnLayer() + "/moving_variance"));
    }

    /** Σ over the replicas of per-channel batch-norm sums, in place; its time counts as the exchange's. */
    private void allreduceChannels(double[] values) {
        long t0 = System.nanoTime();
        replicas.allreduceSum(values);
        GradientExchange.Times t = exchange.times();
        t.communicatorNanos += System.nanoTime() - t0;
        t.bytes += (long) values.length * Double.BYTES;
    }

    /** Backward of {@link #synchronisedBatchNorm}: dγ, dβ summed over the replicas (one allreduce of 2c values), then dz of this replica's rows. */
    private void synchronisedBatchNormBackward(Node.Conv c, int i, BatchNormSpec bn, Buffer dy, Buffer dyMasked) {
        int channels = bn.channels();
        double[] dGamma = new double[channels], dBeta = new double[channels], both = new double[2 * channels];
        backend.batchNormBackwardSums(bn, z[i], act[c.output()], dy, mean[i], invStd[i], dGamma, dBeta);
        System.arraycopy(dGamma, 0, both, 0, channels);
        System.arraycopy(dBeta, 0, both, channels, channels);
        allreduceChannels(both);
        System.arraycopy(both, 0, dGamma, 0, channels);
        System.arraycopy(both, channels, dBeta, 0, channels);
        backend.batchNormBackwardApply(bn, bn.rows() * replicas.size(), z[i], act[c.output()], dy, params.get(c.bnLayer() + "/gamma"),
                mean[i], invStd[i], dGamma, dBeta, dz, dyMasked, grads.get(c.bnLayer() + "/gamma"), grads.get(c.bnLayer() + "/beta"));
    }

    private void checkInput(Tensor input, int[] labelIndices) {
        Value in = graph.input();
        Shape s = input.shape();
        if (s.rank() != 4 || s.dim(0) != batch || s.dim(1) != in.h() || s.dim(2) != in.w() || s.dim(3) != 3) {
            throw new IllegalArgumentException("input has shape " + s + ", expected (" + batch + ", " + in.h() + ", " + in.w() + ", 3)");
        }
        if (labelIndices.length != batch) throw new IllegalArgumentException(labelIndices.length + " labels for a batch of " + batch);
        for (int l : labelIndices) {
            if (l < 0 || l >= head.classes()) throw new IllegalArgumentException("label " + l + " is outside [0, " + head.classes() + ")");
        }
        int bad = input.firstNonFinite();
        if (bad >= 0) throw new IllegalArgumentException("input holds a non-finite value at flat index " + bad);
    }

    /** Where a gradient for value v should be written: straight into its buffer the first time, else into scratch. */
    private Buffer target(Buffer[] grad, boolean[] has, int v) { return has[v] ? scratch : grad[v]; }

    /** Completes a write made into {@link #target}: adds scratch into the value's gradient when it already had one. */
    private void accumulate(Buffer[] grad, boolean[] has, int v) {
        if (has[v]) backend.addInPlace(grad[v], scratch, batch * graph.values().get(v).elementsPerImage());
        has[v] = true;
    }

    /**
     * The gradient of an add's residual input is the add's output gradient dy itself. The first time
     * the buffer is shared instead of copied: in reverse order dy is final and no longer read.
     */
    private void passThrough(Buffer[] grad, boolean[] has, int v, Buffer dy) {
        if (has[v]) backend.addInPlace(grad[v], dy, batch * graph.values().get(v).elementsPerImage());
        else grad[v] = dy;
        has[v] = true;
    }

    private static Buffer[] weightsOf(Node.Conv c, Map<String, Buffer> m) {
        if (c.kind() == ConvKind.SEPARABLE3X3_SAME) {
            return new Buffer[]{m.get(c.name() + "/depthwise_kernel"), m.get(c.name() + "/pointwise_kernel")};
        }
        return new Buffer[]{m.get(c.name() + "/kernel"), null};
    }

    private Tensor download(Buffer b, Shape shape) {
        float[] d = new float[shape.size()];
        backend.download(b, 0, d, 0, d.length);
        return new Tensor(shape, d);
    }




    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (LaunchRecording.Recording r : recordings.values()) r.close();
        recordings.clear();
        for (OverlappedTransfers.Fence f : slotFences) if (f != null) f.close();
        update.close();
        buffers.close();
    }
}
