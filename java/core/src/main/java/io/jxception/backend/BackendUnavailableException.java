package io.jxception.backend;

/** A backend cannot run here; the message says why (no driver, no device, build without nvcc, ...). Immutable once thrown. */
public class BackendUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message why the backend cannot run, e.g. "cuda unavailable: no CUDA device found" */
    public BackendUnavailableException(String message) { super(message); }

    /**
     * @param message why the backend cannot run
     * @param cause   the failure behind it
     */
    public BackendUnavailableException(String message, Throwable cause) { super(message, cause); }
}
