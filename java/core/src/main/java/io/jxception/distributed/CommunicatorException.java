package io.jxception.distributed;

/**
 * A communicator could not be opened, or a collective failed: the message says what, with the MPI
 * library's own error text where MPI reported the error. Immutable once thrown.
 */
public class CommunicatorException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    /** MPI's error code, or -1 for an error found outside any MPI call. */
    private final int mpiErrorCode;

    /** An error found before or outside any MPI call (no MPI error code). */
    public CommunicatorException(String message) {
        this(message, -1);
    }

    /** An error that a call returned: {@code mpiErrorCode} is the MPI error code (not MPI_SUCCESS). */
    public CommunicatorException(String message, int mpiErrorCode) {
        super(message);
        this.mpiErrorCode = mpiErrorCode;
    }

    /** An error caused by another (loading the library, for instance). */
    public CommunicatorException(String message, Throwable cause) {
        super(message, cause);
        this.mpiErrorCode = -1;
    }

    /** The MPI error code the failing call returned, or -1 when the error did not come from an MPI call. */
    public int mpiErrorCode() { return mpiErrorCode; }
}
