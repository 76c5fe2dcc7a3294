package io.jxception.bench;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The device step's way onto NVIDIA's OpenCL (benchmarks/device/opencl_icd.sh): an ICD file of its own
 * named by OCL_ICD_VENDORS, which the loader then reads instead of /etc/OpenCL/vendors. Here it names
 * pocl's library instead of libnvidia-opencl.so.1, and the Java backend, in a JVM started with that
 * environment, must list pocl's device through it; a driver that is missing or does not load is one
 * line that says so.
 */
class OpenClIcdTest {
    private static final Path STEP = Path.of("benchmarks/device/opencl_icd.sh");

    record Run(int exit, String out) {
        String value(String key) {
            return out.lines().filter(l -> l.startsWith(key + "=")).map(l -> l.substring(key.length() + 1)).findFirst().orElse(null);
        }
    }

    static Run run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "finished: " + command);
        return new Run(p.exitValue(), out);
    }

    /** pocl's library as /etc/OpenCL/vendors/pocl.icd names it, made absolute; null without pocl. */
    static Path poclLibrary() throws IOException {
        Path icd = Path.of("/etc/OpenCL/vendors/pocl.icd");
        if (!Files.isRegularFile(icd)) return null;
        Path lib = Path.of(Files.readString(icd).strip());
        if (lib.isAbsolute()) return Files.exists(lib) ? lib : null;
        for (String d : List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib")) {
            if (Files.exists(Path.of(d).resolve(lib))) return Path.of(d).resolve(lib);
        }
        return null;
    }

    /** `jxception info` in a JVM of its own (the OpenCL loader reads OCL_ICD_VENDORS once per process). */
    static Run info(Map<String, String> env) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        return run(List.of(java.toString(), "-cp", System.getProperty("java.class.path"), "io.jxception.cli.Main", "info"), env);
    }

    @Test
    void theStepWritesAnIcdFileAndTheJavaBackendFindsThatPlatformThroughIt(@TempDir Path dir) throws Exception {
        Path pocl = poclLibrary();
        if (pocl == null) {
            assertFalse("true".equalsIgnoreCase(System.getenv("CI")), "CI installs pocl-opencl-icd");
            Assumptions.abort("no pocl here");
        }
        Path vendors = dir.resolve("vendors");
        Run step = run(List.of("bash", STEP.toString(), vendors.toString()), Map.of("NVIDIA_OPENCL_LIB", pocl.toString(), "OPENCL_PROBE_ARGS", "--any"));
        assertEquals(0, step.exit(), step.out());
        assertEquals(pocl + "\n", Files.readString(vendors.resolve("nvidia.icd")), "the ICD file names the library by its absolute path");
        assertEquals(vendors.toString(), step.value("OCL_ICD_VENDORS"));
        assertEquals("opencl:0", step.value("OPENCL_GPU"), "the only platform: its device is opencl:0");
        assertEquals("", step.value("OPENCL_REASON"));

        Run info = info(Map.of("OCL_ICD_VENDORS", vendors.toString()));
        assertEquals(0, info.exit(), info.out());
        assertTrue(info.out().matches("(?s).*\\nopencl +1 device\\n  opencl:0  [^\\n]*, CPU, .*"), info.out());

        // a GPU is what the step asks for without --any: pocl is a CPU, and the reason says so
        Run gpu = run(List.of("bash", STEP.toString(), vendors.toString()), Map.of("NVIDIA_OPENCL_LIB", pocl.toString()));
        assertEquals(1, gpu.exit(), gpu.out());
        assertTrue(gpu.value("OPENCL_REASON").startsWith("OpenCL found no GPU device ("), gpu.out());
    }

    @Test
    void aDriverThatDoesNotLoadIsOneLineWithTheLinkersMessage(@TempDir Path dir) throws Exception {
        Path broken = Files.writeString(dir.resolve("libnvidia-opencl.so.1"), "not a shared object");
        Path vendors = dir.resolve("vendors");
        Run step = run(List.of("bash", STEP.toString(), vendors.toString()), Map.of("NVIDIA_OPENCL_LIB", broken.toString()));
        assertEquals(1, step.exit(), step.out());
        String reason = step.value("OPENCL_REASON");
        assertTrue(reason.startsWith("the ICD loader ") && reason.contains("found no OpenCL platform with OCL_ICD_VENDORS=" + vendors), reason);
        assertTrue(reason.contains(vendors.resolve("nvidia.icd") + " names " + broken + ", which does not load: " + broken + ": "), reason);
        assertEquals("", step.value("OPENCL_GPU"));

        // the Java backend, pointed at the same folder, finds no platform either, and says so
        Run info = info(Map.of("OCL_ICD_VENDORS", vendors.toString()));
        assertEquals(0, info.exit(), info.out());
        assertTrue(info.out().matches("(?s).*\\nopencl +unavailable: OpenCL unavailable: .*"), info.out());
    }

    @Test
    void noDriverLibraryAtAllIsOneLine(@TempDir Path dir) throws Exception {
        Run step = run(List.of("bash", STEP.toString(), dir.resolve("vendors").toString()),
                Map.of("NVIDIA_OPENCL_LIB", dir.resolve("nowhere/libnvidia-opencl.so.1").toString()));
        assertEquals(1, step.exit(), step.out());
        assertEquals("NVIDIA's OpenCL driver library (libnvidia-opencl.so.1) is not in /usr/local/nvidia/lib64, /usr/local/nvidia/lib,"
                + " /usr/lib/x86_64-linux-gnu or /usr/lib64 (asked for: " + dir.resolve("nowhere/libnvidia-opencl.so.1") + ")", step.value("OPENCL_REASON"));
        assertFalse(Files.exists(dir.resolve("vendors/nvidia.icd")));
    }
}
