package io.jxception.backend;

/**
 * An open device that runs Xception: the Java reference ({@code cpu}), an OpenCL device
 * ({@code opencl:0}) or an NVIDIA GPU ({@code cuda:0}). Open one with {@link Backends#open}, hand it
 * to {@link io.jxception.exec.InferenceSession} or {@link io.jxception.train.Trainer}, and close it
 * when done: it owns the device context and every buffer allocated on it.
 *
 * <p>Threads: a backend may be shared by sessions on different threads at once (one device, one
 * {@link io.jxception.exec.InferenceSession} per worker thread) on cpu, OpenCL and CUDA; each session
 * serves one thread at a time (a second thread is refused, see InferenceSession). On OpenCL and
 * CUDA the sessions' launches take turns on the device's one queue (a lock per backend), so more
 * threads do not make one device faster; the cpu backend runs them side by side. A
 * {@link io.jxception.train.Trainer} uses its backend alone. Close the backend after every session
 * on it is closed. {@link #name()}, {@link #description()} and {@link #precision()} may be read
 * from any thread.
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
