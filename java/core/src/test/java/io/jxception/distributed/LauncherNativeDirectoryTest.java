package io.jxception.distributed;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * bin/jxception gives every process a folder of its own for the native libraries that LWJGL, JCuda
 * and JNA unpack, so that ranks starting together on a node never load each other's half-written
 * files, and removes the folders of processes that have ended. Run from a copy of the launcher with
 * a stand-in jar; {@code -XshowSettings:properties -version} makes the JVM print its properties and
 * exit before any class is loaded.
 */
class LauncherNativeDirectoryTest {
    @TempDir Path root;

    @Test
    void eachProcessUnpacksIntoItsOwnFolderAndEndedProcessesFoldersAreRemoved() throws Exception {
        Path script = root.resolve("bin/jxception");
        Files.createDirectories(script.getParent());
        Files.copy(Path.of("bin/jxception"), script);
        Path target = Files.createDirectories(root.resolve("java/cli/target/lib"));
        Files.write(target.getParent().resolve("jxception-cli-test.jar"), new byte[0]);
        Path parent = root.resolve("native");
        String host = run(List.of("bash", "-c", "echo \"${HOSTNAME:-$(uname -n)}\""), Map.of()).strip();
        // pid_max is at most 4194304 on Linux: no process has this pid
        Path ended = Files.createDirectories(parent.resolve(host + "-4194999"));
        Files.write(ended.resolve("liblwjgl.so"), new byte[10]);
        Path running = Files.createDirectories(parent.resolve(host + "-" + ProcessHandle.current().pid()));
        Path otherHost = Files.createDirectories(parent.resolve("some-other-node-4194999"));

        String first = run(List.of("bash", script.toString(), "info"),
                Map.of("JXCEPTION_NATIVE_DIR", parent.toString(), "JXCEPTION_JAVA_OPTS", "-XshowSettings:properties -version"));
        Path dir = property(first, "java.io.tmpdir");
        assertEquals(parent, dir.getParent(), first);
        assertTrue(dir.getFileName().toString().matches(Pattern.quote(host) + "-\\d+"), dir.toString());
        assertEquals(dir, property(first, "org.lwjgl.system.SharedLibraryExtractPath"));
        assertEquals(dir, property(first, "jna.tmpdir"));
        assertTrue(Files.isDirectory(dir), "made before the JVM starts");
        assertFalse(Files.exists(ended), "the folder of a process that has ended is removed");
        assertTrue(Files.isDirectory(running), "the folder of a running process is kept");
        assertTrue(Files.isDirectory(otherHost), "another host's processes cannot be checked from here: kept");

        String second = run(List.of("bash", script.toString(), "info"),
                Map.of("JXCEPTION_NATIVE_DIR", parent.toString(), "JXCEPTION_JAVA_OPTS", "-XshowSettings:properties -version"));
        assertNotEquals(dir, property(second, "java.io.tmpdir"), "another process, another folder");
        assertFalse(Files.exists(dir), "the first launch's JVM has ended: its folder goes at the next launch");
    }

    private static Path property(String settings, String name) {
        Matcher m = Pattern.compile("^\\s*" + Pattern.quote(name) + " = (.+)$", Pattern.MULTILINE).matcher(settings);
        assertTrue(m.find(), name + " not set:\n" + settings);
        return Path.of(m.group(1).strip());
    }

    /** stdout and stderr of a command that must succeed. */
    private static String run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return out;
    }
}
