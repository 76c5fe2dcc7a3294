package io.jxception.exec;

import io.jxception.backend.Backend;
import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.exec.ForwardSession;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;

import java.util.Iterator;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;

/**
 * Forward passes (inference) of one Xception on one {@link Backend}. Construction uploads the
 * weights once, with batch norm folded into a per-channel scale and shift, and reserves device memory
 * for {@code maxBatch} images; {@link #run} then takes any batch of 1 to {@code maxBatch} images.
 *
 * <p>Input: (n, H, W, 3) NHWC float32, preprocessed as Keras' {@code xception.preprocess_input}
 * (x / 127.5 − 1; see {@link io.jxception.image.KerasPreprocessing}). Output: (n, classes) softmax
 * probabilities, or (n, C) pooled features for a configuration without the top
 * ({@link #outputShape}). Non-finite inputs and outputs are errors, never passed on.
 *
 * <p>On CUDA a session records each batch size's forward as a CUDA graph on its second run and
 * replays it from then on (one host call instead of ~45 launches); {@link #runAll} overlaps the copy
 * of the next batch with the forward of this one where the backend has a copy queue.
 *
 * <p>Threads: a session serves one thread at a time; sessions on one backend may run on different
 * threads at once (the service case: one device, a session per worker thread, on every backend).
 * A session used by a second thread while a first is inside {@link #run}, {@link #runAll} or
 * {@link #close} is refused with an {@link IllegalStateException} naming both threads, never a wrong
 * output; the same holds for a call into the session from {@link #runAll}'s output callback. A
 * session owns its device memory and frees it on {@link #close}; the backend stays open and is
 * closed by whoever opened it.
 */
public final class InferenceSession implements AutoCloseable {
    private final ForwardSession forward;
    private final AtomicReference<Thread> user = new AtomicReference<>(); // the thread inside the session, null when idle

    /**
     * A session for up to {@code maxBatch} images per run, replaying recorded forwards where the
     * backend can.
     *
     * @throws IllegalArgumentException when {@code maxBatch} &lt; 1 or the backend was not opened by {@link io.jxception.backend.Backends}
     * @throws io.jxception.backend.DeviceMemoryException when the weights and activations do not fit on the device
     */
    public InferenceSession(Backend backend, XceptionWeights weights, int maxBatch) {
        this(backend, weights, maxBatch, true);
    }

    /**
     * As {@link #InferenceSession(Backend, XceptionWeights, int)}; {@code replayLaunches} false runs
     * every launch from the host each time (for comparisons with the recorded replay).
     */
    public InferenceSession(Backend backend, XceptionWeights weights, int maxBatch, boolean replayLaunches) {
        this.forward = new ForwardSession(KernelBackend.of(backend), weights, maxBatch, replayLaunches);
    }

    /** The largest batch {@link #run} takes. */
    public int maxBatch() { return forward.maxBatch(); }

    /** Shape of the input this session takes for {@code n} images: (n, H, W, 3). */
    public Shape inputShape(int n) { return forward.inputShape(n); }

    /** Shape of the output for {@code n} images: (n, classes), (n, C) pooled features, or (n, h, w, C) without pooling. */
    public Shape outputShape(int n) { return forward.outputShape(n); }

    /**
     * Every input is scanned for NaN and Inf before it reaches the device; large batches (a 299x299
     * batch of 256 is 68.7 M values, ~30 ms on one thread) are scanned in chunks on {@code executor}.
     * Null (the default) scans on the calling thread: the library starts no threads of its own.
     *
     * @return this session
     */
    public InferenceSession checkInputsOn(Executor executor) {
        forward.checkInputsOn(executor);
        return this;
    }

    /** Whether forwards are recorded once per batch size and replayed (CUDA graphs). */
    public boolean replaysLaunches() { return forward.replaysLaunches(); }

    /**
     * Runs one batch: input (n, H, W, 3), 1 ≤ n ≤ {@link #maxBatch()} → output ({@link #outputShape}).
     *
     * @throws IllegalArgumentException for a wrong shape or a non-finite input value (naming its index)
     * @throws ArithmeticException when the output holds a non-finite value
     * @throws IllegalStateException after {@link #close}, or while another thread is running this session
     */
    public Tensor run(Tensor input) {
        enter("run");
        try {
            return forward.run(input);
        } finally {
            user.set(null);
        }
    }

    /**
     * Runs every batch of {@code batches} and hands {@code outputs} each result with its index, in
     * order. A bad batch stops the run with an error after every earlier batch's output was handed over.
     *
     * @return the number of batches run
     */
    public int runAll(Iterator<Tensor> batches, BiConsumer<Integer, Tensor> outputs) {
        enter("runAll");
        try {
            return forward.runAll(batches, outputs);
        } finally {
            user.set(null);
        }
    }

    /**
     * Frees this session's device memory; the backend stays open. Closing twice does nothing.
     *
     * @throws IllegalStateException while another thread is running this session
     */
    @Override
    public void close() {
        enter("close");
        try {
            forward.close();
        } finally {
            user.set(null);
        }
    }

    /**
     * Marks the calling thread as the session's user, or refuses: two threads inside one session would
     * overwrite each other's input and activations (wrong outputs, or on a device a crash).
     */
    private void enter(String method) {
        Thread me = Thread.currentThread();
        Thread other = user.compareAndExchange(null, me);
        if (other == null) return;
        if (other == me) {
            throw new IllegalStateException("InferenceSession." + method + " called on thread '" + me.getName()
                    + "' from inside this session's own run (runAll's output callback?): a session runs one call at a time");
        }
        throw new IllegalStateException("InferenceSession." + method + " called on thread '" + me.getName() + "' while thread '"
                + other.getName() + "' is running this session: a session serves one thread at a time;"
                + " open one session per thread (sessions on one backend may run on different threads at once)");
    }
}
