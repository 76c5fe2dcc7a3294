package io.jxception.internal.backend.cuda;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CPU emulations inside the Hopper dev programs, which check what a GPU-less build can check of
 * kernels that only an H100/H200 runs: {@code pwbwd_wgmma_v1 host} (the MN-major wgmma descriptors'
 * addressing against the TMA boxes' placement, for every element of every stage) and {@code
 * sepconv_wgmma_v2 host} (the sliding-window depthwise producer against a naive depthwise, bit for bit).
 * Each program is compiled with nvcc exactly as its "// device-build:" line says (warnings are errors)
 * and run with {@code host}, which touches no device. Skipped where nvcc is absent, like cuda/build.sh.
 */
class CudaDevHostEmulationTest {
    @ParameterizedTest
    @ValueSource(strings = {"pwbwd_wgmma_v1", "sepconv_wgmma_v2"})
    void hostEmulationPasses(String program) throws IOException, InterruptedException {
        Assumptions.assumeTrue(CudaKernelBuild.nvccOnPath(), "no nvcc: the dev programs are not built here");
        Path src = Path.of("cuda", "dev", program + ".cu");
        Matcher arch = Pattern.compile("(?m)^// device-build: *(.+)$").matcher(Files.readString(src));
        assertTrue(arch.find(), program + " names its target on a // device-build: line");
        Path dir = Files.createDirectories(Path.of("java", "cuda", "target", "dev-host"));
        Path bin = dir.resolve(program);
        List<String> compile = new ArrayList<>(List.of(nvcc(), "-std=c++17", "-O1", "--Werror", "all-warnings", "-Xptxas", "-Werror"));
        compile.addAll(List.of(arch.group(1).trim().split("\\s+")));
        compile.addAll(List.of("-o", bin.toString(), src.toString()));
        Result built = run(compile, 300);
        assertEquals(0, built.exit(), "nvcc " + String.join(" ", compile) + ":\n" + built.output());
        Result host = run(List.of(bin.toString(), "host"), 120);
        assertEquals(0, host.exit(), program + " host:\n" + host.output());
        assertTrue(host.output().contains("RESULT " + program + " host OK"), host.output());
        assertTrue(host.output().lines().filter(l -> l.startsWith("CHECK")).count() >= 10, "the emulation ran its checks:\n" + host.output());
    }

    private record Result(int exit, String output) {}

    private static Result run(List<String> command, long timeoutSeconds) throws IOException, InterruptedException {
        Path log = Files.createTempFile("jx-dev-host", ".log");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                return new Result(-1, "timed out after " + timeoutSeconds + " s: " + String.join(" ", command) + "\n" + Files.readString(log, StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static String nvcc() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, "nvcc"))) return Path.of(dir, "nvcc").toString();
        }
        return Path.of(System.getenv("CUDA_HOME"), "bin", "nvcc").toString();
    }
}
