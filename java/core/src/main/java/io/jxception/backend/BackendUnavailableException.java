package io.jxception.backend;

/** A backend cannot run here; the message says why (no driver, no device, build without nvcc, ...). */
public class BackendUnavailableException extends RuntimeException {
    public BackendUnavailableException(String message) { super(message); }

    public BackendUnavailableException(String message, Throwable cause) { super(message, cause); }
}
