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
 * and run with {@code host}, which touches no device; the library's simple kernels run on host threads
 * (see the last test). Skipped where nvcc is absent, like cuda/build.sh.
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

    /**
     * The library's kernels executed on host threads ({@code cuda/dev/host_threads.h}: blocks of std::threads, barriers,
     * and mma.sync / ldmatrix / cp.async emulated by the PTX ISA's fragment layouts), compiled by the host C++ compiler
     * with the CUDA toolkit's headers (the bf16/fp16 types), so they run wherever nvcc is installed:
     * <ul>
     *   <li>{@code channel_group_kernels_host}: the 8-channels-per-thread kernels (batch-norm partial sums and passes,
     *       depthwise forward / data / weight gradients, max-pool backward, add_in_place) for fp32, bf16 and fp16 against
     *       float64 sums chunk by chunk and bit for bit against the kernels they replace;</li>
     *   <li>{@code pwbwd_host}: cuda/pwbwd.cu's tensor-core dgrad and wgrad in SEP, PW and STEM modes (with
     *       pwbwd_zero_unstrided, pwbwd_reduce, pwbwd_pack_w2) for bf16 and fp16 against float64, after a control that
     *       sepgemm_gemm, measured correct on an H100, passes through the same emulation;</li>
     *   <li>{@code stem_and_optimizer_host}: the uint8 stem and preprocessing bit for bit against the float path, the
     *       one-launch SGD and unscale bit for bit against the per-tensor kernels (and the overflow flag), and stem_mma
     *       (correct on an H100) against float64 as another control of the mma emulation, tf32 included;</li>
     *   <li>{@code hopper_host}: the Hopper wgmma kernels ({@code cuda/dev/host_hopper.h} emulates mbarriers, TMA with
     *       the 128-byte swizzle, wgmma from shared-memory descriptors and named barriers): pwgemm_wgmma for bf16, fp16
     *       and tf32 at both tile widths against float64, persistent CTAs over several tiles, partial tiles;
     *       sepconv_wgmma (one and two producer warpgroups) bit for bit against the split path; pwbwd_wgrad_wgmma's
     *       split partials against float64.</li>
     * </ul>
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"channel_group_kernels_host, 140", "pwbwd_host, 34", "stem_and_optimizer_host, 12", "hopper_host, 15"})
    void libraryKernelsOnHostThreadsMatchFloat64(String program, int checks) throws IOException, InterruptedException {
        Assumptions.assumeTrue(CudaKernelBuild.nvccOnPath(), "no nvcc (no CUDA headers): the host emulation is not built here");
        // where this nvcc takes its headers from (it may be a wrapper script): its own INCLUDES line
        Result dry = run(List.of(nvcc(), "--dryrun", "-x", "cu", "-E", "/dev/null"), 60);
        Matcher inc = Pattern.compile("INCLUDES=\"-I([^\"]+)\"").matcher(dry.output());
        assertTrue(inc.find(), "nvcc --dryrun names its include directory:\n" + dry.output());
        Path include = Path.of(inc.group(1).trim());
        assertTrue(Files.isRegularFile(include.resolve("cuda_bf16.h")), "CUDA headers where nvcc takes them: " + include);
        Path dir = Files.createDirectories(Path.of("java", "cuda", "target", "dev-host"));
        Path bin = dir.resolve(program);
        List<String> compile = List.of("g++", "-std=c++20", "-O1", "-pthread", "-Wall", "-Werror", "-Wno-unknown-pragmas", "-Wno-sign-compare",
                "-I", "cuda", "-I", include.toString(), "-o", bin.toString(), "cuda/dev/" + program + ".cpp");
        Result built = run(compile, 300);
        assertEquals(0, built.exit(), String.join(" ", compile) + ":\n" + built.output());
        Result host = run(List.of(bin.toString(), "host"), 300);
        String name = program.substring(0, program.length() - "_host".length());
        assertEquals(0, host.exit(), program + " host:\n" + host.output());
        assertTrue(host.output().contains("RESULT " + name + " host OK (0 failed)"), host.output());
        assertTrue(host.output().lines().filter(l -> l.startsWith("CHECK") && l.endsWith(" OK")).count() >= checks,
                "every check ran:\n" + host.output());
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
