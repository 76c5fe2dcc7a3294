package io.jxception.internal.tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * Writes a file so that readers see either the old content or the complete new one: the bytes go
 * to a temporary file in the same folder ({@code .<name>.<digits>.tmp}), are fsynced, and the file
 * is renamed over the target. Every writer of this library goes through here, so these rules hold
 * for every output:
 * <ul>
 *   <li>The target is a new path or an existing regular file. A folder, a device node ({@code /dev/null}),
 *       a fifo or a socket is refused: renaming over it would replace it with a regular file.</li>
 *   <li>A symbolic link is followed: the regular file it points to (through any chain of links) is
 *       replaced, in that file's folder, and the link stays a link. A link to nothing is refused.</li>
 *   <li>Permissions: a replaced file keeps its permission bits; a new file gets the default ones
 *       (0666 less the process's umask), as {@code open(2)} with {@code O_CREAT} gives them.</li>
 *   <li>{@link #checkTarget} says all of this before any work starts, and proves the folder writable
 *       by creating and deleting a temporary file in it (so {@code /proc}, a read-only mount or a full
 *       quota fail there, not after an hour of computing).</li>
 * </ul>
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, channel -> {
            ByteBuffer bb = ByteBuffer.wrap(bytes);
            while (bb.hasRemaining()) channel.write(bb);
        });
    }

    /** Something that writes the whole content to an open channel. */
    public interface Writer {
        void writeTo(FileChannel channel) throws IOException;
    }

    /**
     * Writes what {@code writer} produces to {@code target} atomically, by the rules of the class
     * comment. The channel is a new temporary file; {@code writer} may write it in as many pieces as
     * it likes (e.g. as outputs are produced). Nothing is left behind when it throws.
     */
    public static void write(Path target, Writer writer) throws IOException {
        Path abs = resolve(target);
        Path dir = abs.getParent();
        Set<PosixFilePermission> keep = Files.exists(abs) ? permissions(abs) : null;
        Path tmp = createTemporary(abs);
        boolean done = false;
        try {
            PosixFileAttributeView view = Files.getFileAttributeView(tmp, PosixFileAttributeView.class);
            if (keep != null && view != null) view.setPermissions(keep);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                writer.writeTo(ch);
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
        } finally {
            if (!done) Files.deleteIfExists(tmp);
        }
        syncFolder(dir);
    }

    /**
     * Checks, before any work, that {@link #write} to {@code target} will be allowed and can succeed:
     * the folder exists and a file can be created in it (a temporary file is created and deleted),
     * and the target is a new path or a regular file (or a link to one).
     *
     * @throws IOException naming the path and what is wrong with it
     */
    public static void checkTarget(Path target) throws IOException {
        Path abs = resolve(target);
        Path probe = createTemporary(abs);
        Files.delete(probe);
    }

    /**
     * Deletes temporary files that an interrupted {@link #write} of {@code target} left (a kill
     * between creating and renaming): regular files named {@code .<target name>.<digits>.tmp} beside
     * it. Call it where no other process writes the same target (a training run's output folder).
     *
     * @return the files deleted
     */
    public static List<Path> removeStaleTemporaries(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        List<Path> removed = new ArrayList<>();
        if (dir == null || !Files.isDirectory(dir)) return removed;
        Pattern ours = temporaryName(abs.getFileName().toString());
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, p -> ours.matcher(p.getFileName().toString()).matches())) {
            for (Path p : files) {
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && Files.deleteIfExists(p)) removed.add(p);
            }
        }
        return removed;
    }

    /** The names {@link #write} gives its temporary files for a target named {@code name}. */
    static Pattern temporaryName(String name) {
        return Pattern.compile("\\." + Pattern.quote(name) + "\\.[0-9]{1,20}\\.tmp");
    }

    /**
     * The path that will be replaced: {@code target} made absolute, symbolic links followed to the
     * final file; refused when that is not a regular file or a new name in an existing folder.
     */
    static Path resolve(Path target) throws IOException {
        Path abs = target.toAbsolutePath().normalize();
        if (abs.getFileName() == null) throw new IOException("output " + target + " is a folder (the root): give a file name");
        if (Files.isSymbolicLink(abs)) {
            Path real;
            try {
                real = abs.toRealPath();
            } catch (NoSuchFileException e) {
                throw new IOException("output " + target + " is a symbolic link to " + Files.readSymbolicLink(abs)
                        + ", which does not exist: remove the link or create the file it names");
            } catch (IOException e) {
                throw new IOException("output " + target + " is a symbolic link that cannot be followed (" + e.getMessage() + ")", e);
            }
            return requireFileOrNew(target, real);
        }
        return requireFileOrNew(target, abs);
    }

    private static Path requireFileOrNew(Path target, Path abs) throws IOException {
        String shown = target.toString().equals(abs.toString()) ? target.toString() : target + " (-> " + abs + ")";
        if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
            if (Files.isDirectory(abs)) throw new IOException("output " + shown + " is a folder: give a file name inside it");
            if (!Files.isRegularFile(abs)) {
                throw new IOException("output " + shown + " is " + kind(abs) + ", not a regular file: jxception writes only regular files"
                        + " (it would replace " + kind(abs) + " with a file); give a file name");
            }
        }
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) throw new IOException("output folder does not exist: " + dir + " (for " + target + "); create it first");
        return abs;
    }

    private static String kind(Path p) {
        try {
            Object mode = Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            int type = ((Integer) mode) & 0170000;
            return switch (type) {
                case 0020000 -> "a character device";
                case 0060000 -> "a block device";
                case 0010000 -> "a fifo (named pipe)";
                case 0140000 -> "a socket";
                default -> "a special file";
            };
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "a special file";
        }
    }

    /**
     * A new, empty temporary file beside {@code abs}, created with the default permissions (0666 less
     * the umask), which {@link Files#createTempFile} would force to 0600.
     */
    private static Path createTemporary(Path abs) throws IOException {
        Path dir = abs.getParent();
        String name = abs.getFileName().toString();
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve("." + name + "." + Long.toUnsignedString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            try {
                Files.newByteChannel(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return tmp;
            } catch (FileAlreadyExistsException e) {
                if (attempt == 100) throw e;
            } catch (IOException e) {
                String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage();
                throw new IOException("cannot write in output folder " + dir + " (for " + abs.getFileName() + "): " + why
                        + "; choose a writable folder", e);
            }
        }
    }

    private static Set<PosixFilePermission> permissions(Path file) {
        try {
            return Files.getPosixFilePermissions(file);
        } catch (IOException | UnsupportedOperationException e) {
            return null; // a file system without POSIX permissions: the new file gets the defaults
        }
    }

    /** fsync of the folder, so the rename itself survives a power cut (where the OS allows it). */
    private static void syncFolder(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // some file systems refuse to open or sync a folder: the rename is still atomic
        }
    }
}
