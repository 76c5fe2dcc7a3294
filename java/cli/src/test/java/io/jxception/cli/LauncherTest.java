package io.jxception.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** bin/jxception, run by bash from a copy of the repository layout. */
class LauncherTest {
    @TempDir Path root;

    private record Run(int exitCode, String out, String err) {}

    private Run launch(String... args) throws IOException, InterruptedException {
        Path script = root.resolve("bin/jxception");
        Files.createDirectories(script.getParent());
        Files.copy(Path.of("bin/jxception"), script, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        List<String> cmd = new java.util.ArrayList<>(List.of("bash", script.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        byte[] out = p.getInputStream().readAllBytes(), err = p.getErrorStream().readAllBytes();
        return new Run(p.waitFor(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    @Test
    void notBuiltSaysRunMvnPackage() throws Exception {
        Run r = launch("info");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().startsWith("jxception: error: jxception is not built yet: run mvn package first"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void runsTheJarWithTargetLibAndPassesTheExitCode() throws Exception {
        // java/cli/target/jxception-cli-test.jar from the compiled classes, java/cli/target/lib/ with
        // picocli and the core library's classes: enough for --version and usage errors
        Path target = root.resolve("java/cli/target");
        Path lib = Files.createDirectories(target.resolve("lib"));
        Files.copy(jarOf(CommandLine.class), lib.resolve("picocli.jar"));
        jar(jarOf(Main.class), target.resolve("jxception-cli-test.jar"));
        jar(jarOf(io.jxception.backend.Backends.class), lib.resolve("jxception-core.jar"));
        Run version = launch("--version");
        assertEquals(0, version.exitCode(), version.err());
        assertTrue(version.out().startsWith("jxception "), version.out());
        Run usage = launch("bench", "--backend", "tpu");
        assertEquals(2, usage.exitCode(), usage.err());
        assertTrue(usage.err().startsWith("jxception: error: Invalid value for option '--backend'"), usage.err());
    }

    /** Packs a folder of classes (or copies a jar) into {@code jar}. */
    private static void jar(Path classes, Path jar) throws IOException {
        if (Files.isRegularFile(classes)) {
            Files.copy(classes, jar);
            return;
        }
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
             Stream<Path> files = Files.walk(classes)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
    }

    private static Path jarOf(Class<?> c) throws URISyntaxException {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
    }
}
