package io.jxception.backend;

/**
 * An open device that runs Xception: the Java reference ({@code cpu}), an OpenCL device
 * ({@code opencl:0}) or an NVIDIA GPU ({@code cuda:0}). Open one with {@link Backends#open}, hand it
 * to {@link io.jxception.exec.InferenceSession} or {@link io.jxception.train.Trainer}, and close it
 * when done: it owns the device context and every buffer allocated on it.
 *
 * <p>Not thread-safe: one thread at a time uses a backend and the sessions on it (one backend per
 * thread or per device is the rule). {@link #name()}, {@link #description()} and
 * {@link #precision()} may be read from any thread.
 */
public interface Backend extends AutoCloseable {
    /** Short name as used on the command line: "cpu", "opencl:0", "cuda:0". */
    String name();

    /** Device name, driver and precision in words, for logs and reports. */
    String description();

    /** Storage precision of activations (and of the weights' copies) on this backend. */
    Precision precision();

    /** Frees the device context and everything allocated on it. Closing twice does nothing. */
    @Override
    void close();
}
