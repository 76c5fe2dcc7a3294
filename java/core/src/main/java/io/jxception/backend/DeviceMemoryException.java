package io.jxception.backend;

/** A device allocation failed; the message names the bytes asked for and, where known, available. */
public class DeviceMemoryException extends RuntimeException {
    public DeviceMemoryException(String message) { super(message); }
}
