package io.jxception.spark;

/**
 * A task's device could not run the network: the backend is unavailable on this executor (no
 * driver, no such device, jxception-cuda missing), it ran out of device memory, or a forward pass
 * failed. Thrown from the task, so the task fails and Spark schedules it again (up to
 * {@code spark.task.maxFailures} times; on another executor where {@code spark.excludeOnFailure.enabled}
 * is set). The message names the backend, the executor and the partition, then the device's own
 * reason. Bad input rows never cause it: they get an error column instead.
 *
 * <p>Immutable, like every exception once thrown.
 */
public final class DeviceFailureException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what failed, where, and why; {@code cause} is the backend's exception */
    public DeviceFailureException(String message, Throwable cause) {
        super(message, cause);
    }
}
