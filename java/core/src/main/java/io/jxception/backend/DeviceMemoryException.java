package io.jxception.backend;

/** A device allocation failed; the message names the bytes asked for and, where known, available. Immutable once thrown. */
public class DeviceMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what did not fit: the bytes asked for and, where known, available */
    public DeviceMemoryException(String message) { super(message); }
}
