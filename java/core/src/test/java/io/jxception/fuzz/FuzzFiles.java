package io.jxception.fuzz;

import io.jxception.internal.text.Printable;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the fuzz targets share: one scratch file per target (readers take paths), and the rule that messages are printable. */
final class FuzzFiles {
    private FuzzFiles() {}

    /** Memory-backed where the machine has it (a fuzzer writes the file hundreds of times a second). */
    private static final Path SCRATCH = Files.isDirectory(Path.of("/dev/shm")) && Files.isWritable(Path.of("/dev/shm"))
            ? Path.of("/dev/shm") : Path.of(System.getProperty("java.io.tmpdir"));
    private static final java.util.Set<String> WRITTEN = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** Writes {@code data} to this JVM's scratch file of that suffix (reused: one input at a time) and returns it. */
    static Path write(byte[] data, String suffix) {
        try {
            Path p = SCRATCH.resolve("jxception-fuzz-" + ProcessHandle.current().pid() + suffix);
            Files.write(p, data);
            if (WRITTEN.add(suffix)) p.toFile().deleteOnExit();
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A refusal must say what is wrong in printable text (no control characters from the input reach a terminal). */
    static void requirePrintableMessage(Throwable e) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) throw new AssertionError("refusal without a message: " + e, e);
        if (!Printable.isSafe(m)) throw new AssertionError("refusal message holds control characters: " + Printable.escape(m), e);
    }
}
