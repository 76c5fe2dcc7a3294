package io.jxception.internal.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** The output rules of every writer: regular files or new paths only, links followed, umask honoured, stale temporaries removable. */
class AtomicFilesTest {
    @TempDir Path dir;
    private final Random random = new Random();

    private byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private List<String> hiddenFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")).toList();
        }
    }

    /** Asserts that writing {@code target} fails with a message containing each fragment, without calling the writer. */
    private void assertRefused(Path target, String... fragments) throws IOException {
        AtomicBoolean called = new AtomicBoolean();
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(target, ch -> called.set(true)));
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "missing '" + f + "' in: " + e.getMessage());
        assertFalse(called.get(), "the writer ran although the target is refused");
        IOException pre = assertThrows(IOException.class, () -> AtomicFiles.checkTarget(target));
        for (String f : fragments) assertTrue(pre.getMessage().contains(f), "pre-flight: missing '" + f + "' in: " + pre.getMessage());
    }

    @Test
    void writesNewFileAndReplacesRegularFile() throws IOException {
        Path f = dir.resolve("y.npy");
        byte[] first = randomBytes(1000), second = randomBytes(77);
        AtomicFiles.write(f, first);
        assertArrayEquals(first, Files.readAllBytes(f));
        AtomicFiles.write(f, second);
        assertArrayEquals(second, Files.readAllBytes(f));
        assertEquals(List.of(), hiddenFiles());
    }

    @Test
    void writerMayStreamManyPiecesToTheChannel() throws IOException {
        Path f = dir.resolve("stream.bin");
        byte[] all = randomBytes(10_000);
        AtomicFiles.write(f, ch -> {
            for (int at = 0; at < all.length; at += 333) ch.write(ByteBuffer.wrap(all, at, Math.min(333, all.length - at)));
        });
        assertArrayEquals(all, Files.readAllBytes(f));
    }

    @Test
    void deviceNodeIsRefusedAndLeftAsItIs() throws IOException {
        Path devNull = Path.of("/dev/null");
        assertRefused(devNull, "/dev/null", "a character device", "not a regular file");
        assertTrue(Files.exists(devNull) && !Files.isRegularFile(devNull), "/dev/null was replaced");
    }

    @Test
    void fifoIsRefused() throws Exception {
        Path fifo = dir.resolve("pipe");
        Process p = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertEquals(0, p.waitFor());
        assertRefused(fifo, fifo.toString(), "a fifo");
        assertFalse(Files.isRegularFile(fifo));
    }

    @Test
    void folderIsRefused() throws IOException {
        Path sub = Files.createDirectory(dir.resolve("out.npy"));
        assertRefused(sub, sub.toString(), "is a folder");
        assertTrue(Files.isDirectory(sub));
    }

    @Test
    void missingFolderIsRefused() throws IOException {
        Path f = dir.resolve("nope").resolve("y.npy");
        assertRefused(f, "output folder does not exist: " + dir.resolve("nope"));
    }

    @Test
    void symbolicLinkIsFollowedAndStaysALink() throws IOException {
        Path real = dir.resolve("real.bin");
        Files.write(real, randomBytes(10));
        Path link = Files.createSymbolicLink(dir.resolve("link.bin"), real.getFileName());
        byte[] bytes = randomBytes(500);
        AtomicFiles.write(link, bytes);
        assertTrue(Files.isSymbolicLink(link), "the link was replaced by a file");
        assertArrayEquals(bytes, Files.readAllBytes(real));
        assertEquals(List.of(), hiddenFiles());
    }

    @Test
    void danglingLinkAndLinkToDeviceAreRefused() throws IOException {
        Path dangling = Files.createSymbolicLink(dir.resolve("dangling"), dir.resolve("missing"));
        assertRefused(dangling, "symbolic link", "does not exist");
        Path toDev = Files.createSymbolicLink(dir.resolve("null"), Path.of("/dev/null"));
        assertRefused(toDev, "character device");
        assertTrue(Files.isSymbolicLink(toDev));
    }

    @Test
    void newFileGetsTheUmaskDefaultPermissions() throws IOException {
        Path reference = Files.createFile(dir.resolve("reference")); // 0666 less the umask
        Path f = dir.resolve("new.bin");
        AtomicFiles.write(f, randomBytes(10));
        assertEquals(Files.getPosixFilePermissions(reference), Files.getPosixFilePermissions(f));
    }

    @Test
    void replacedFileKeepsItsPermissions() throws IOException {
        for (String mode : new String[]{"rw-r-----", "rw-rw-r--", "rwxr-xr-x"}) {
            Path f = dir.resolve("kept-" + mode);
            Files.write(f, randomBytes(10));
            Set<PosixFilePermission> perms = PosixFilePermissions.fromString(mode);
            Files.setPosixFilePermissions(f, perms);
            AtomicFiles.write(f, randomBytes(20));
            assertEquals(perms, Files.getPosixFilePermissions(f), mode);
        }
    }

    @Test
    void outputUnderProcFailsInThePreflight() {
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.checkTarget(Path.of("/proc/jxception-out.npy")));
        assertTrue(e.getMessage().contains("cannot write in output folder /proc"), e.getMessage());
    }

    @Test
    void preflightLeavesNothingBehind() throws IOException {
        AtomicFiles.checkTarget(dir.resolve("y.npy"));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(0, s.count());
        }
    }

    @Test
    void staleTemporariesOfTheTargetAreRemovedAndNothingElse() throws IOException {
        Path target = dir.resolve("checkpoint.safetensors");
        Path stale1 = Files.write(dir.resolve(".checkpoint.safetensors." + Long.toUnsignedString(random.nextLong()) + ".tmp"), randomBytes(5));
        Path stale2 = Files.write(dir.resolve(".checkpoint.safetensors.7.tmp"), randomBytes(5));
        Path other = Files.write(dir.resolve(".weights.safetensors.12.tmp"), randomBytes(5));
        Path notOurs = Files.write(dir.resolve(".checkpoint.safetensors.x1.tmp"), randomBytes(5));
        Path userFile = Files.write(dir.resolve("checkpoint.safetensors.1.tmp"), randomBytes(5));
        List<Path> removed = AtomicFiles.removeStaleTemporaries(target);
        assertEquals(Set.of(stale1, stale2), Set.copyOf(removed));
        assertFalse(Files.exists(stale1, LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(stale2, LinkOption.NOFOLLOW_LINKS));
        assertTrue(Files.exists(other) && Files.exists(notOurs) && Files.exists(userFile));
    }

    @Test
    void failingWriterLeavesTheOldFileAndNoTemporary() throws IOException {
        Path f = dir.resolve("y.bin");
        byte[] old = randomBytes(64);
        Files.write(f, old);
        assertThrows(IOException.class, () -> AtomicFiles.write(f, ch -> {
            ch.write(ByteBuffer.wrap(randomBytes(10)));
            throw new IOException("disk on fire");
        }));
        assertArrayEquals(old, Files.readAllBytes(f));
        assertEquals(List.of(), hiddenFiles());
    }
}
