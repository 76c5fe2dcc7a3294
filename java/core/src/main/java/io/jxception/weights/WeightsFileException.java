package io.jxception.weights;

import io.jxception.internal.text.Printable;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A weights file that cannot be used: missing, truncated, corrupt, of another architecture or
 * configuration. The message starts with the file name and says what was wrong and what to do.
 * Names and values quoted from the file are shown printable: control characters (terminal escapes
 * among them) appear as {@code \\uXXXX}.
 *
 * <p>Immutable once thrown.
 */
public final class WeightsFileException extends IOException {
    /** Version of the serialized form. */
    private static final long serialVersionUID = 1L;
    private final transient Path file;
    /** What is wrong with the file, without its name. */
    private final String reason;

    /**
     * @param file   the weights file
     * @param reason what is wrong with it and what to do
     */
    public WeightsFileException(Path file, String reason) {
        super(Printable.escape(file.getFileName() + ": " + reason));
        this.file = file;
        this.reason = Printable.escape(reason);
    }

    /**
     * @param file   the weights file
     * @param reason what is wrong with it and what to do
     * @param cause  the failure behind it
     */
    public WeightsFileException(Path file, String reason, Throwable cause) {
        super(Printable.escape(file.getFileName() + ": " + reason), cause);
        this.file = file;
        this.reason = Printable.escape(reason);
    }

    /** The message without the file name. */
    public String reason() { return reason; }

    /** The file the problem is about. */
    public Path file() { return file; }
}
