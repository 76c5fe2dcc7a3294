package io.jxception.internal.backend.cuda;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reads target/cuda/ptxas-report.txt (ptxas -v of every kernel for sm_80 and sm_90, and of the sm_90a modules). */
class CudaPtxasReportTest {
    /** Resources of one kernel for one architecture. */
    record KernelReport(String kernel, String arch, int registers, int stackBytes, int spillStores, int spillLoads) {}

    static List<KernelReport> parse(List<String> lines) {
        Pattern entry = Pattern.compile("Compiling entry function '(\\w+)' for '(sm_\\d+a?)'");
        Pattern frame = Pattern.compile("(\\d+) bytes stack frame, (\\d+) bytes spill stores, (\\d+) bytes spill loads");
        Pattern regs = Pattern.compile("Used (\\d+) registers");
        List<KernelReport> out = new ArrayList<>();
        String kernel = null, arch = null;
        int stack = -1, st = -1, ld = -1;
        for (String line : lines) {
            Matcher m = entry.matcher(line);
            if (m.find()) {
                kernel = m.group(1);
                arch = m.group(2);
                stack = st = ld = -1;
                continue;
            }
            m = frame.matcher(line);
            if (m.find() && kernel != null) {
                stack = Integer.parseInt(m.group(1));
                st = Integer.parseInt(m.group(2));
                ld = Integer.parseInt(m.group(3));
                continue;
            }
            m = regs.matcher(line);
            if (m.find() && kernel != null && stack >= 0) {
                out.add(new KernelReport(kernel, arch, Integer.parseInt(m.group(1)), stack, st, ld));
                kernel = null;
            }
        }
        return out;
    }

    @Test
    void parserReadsRegistersAndSpills() {
        List<KernelReport> r = parse(List.of(
                "ptxas info    : Compiling entry function 'sepconv_bn_bf16_m128' for 'sm_90'",
                "ptxas info    : Function properties for sepconv_bn_bf16_m128",
                "    8 bytes stack frame, 4 bytes spill stores, 12 bytes spill loads",
                "ptxas info    : Used 168 registers, used 1 barriers, 4 bytes cmem[0]"));
        assertEquals(List.of(new KernelReport("sepconv_bn_bf16_m128", "sm_90", 168, 8, 4, 12)), r);
        List<KernelReport> hopper = parse(List.of(
                "ptxas info    : Compiling entry function 'pwgemm_wgmma_bf16_n256' for 'sm_90a'",
                "    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads",
                "ptxas info    : Used 168 registers, used 1 barriers, 1296 bytes cmem[0]"));
        assertEquals(List.of(new KernelReport("pwgemm_wgmma_bf16_n256", "sm_90a", 168, 0, 0, 0)), hopper);
    }

    @Test
    void noKernelSpillsOrUsesAStackFrameOnAnyArchitecture() throws IOException {
        List<KernelReport> reports = parse(Files.readAllLines(CudaKernelBuild.report()));
        Map<String, List<String>> entries = CudaKernelBuild.ptxSignatures();
        List<String> bad = new ArrayList<>();
        for (KernelReport k : reports) {
            if (k.spillStores() > 0 || k.spillLoads() > 0 || k.stackBytes() > 0) bad.add(k.toString());
        }
        assertTrue(bad.isEmpty(), "kernels that spill or use local memory: " + bad);
        // every kernel was compiled for both architectures, the architecture-specific ones (wgmma) for theirs
        Map<String, String> archKernels = CudaKernelBuild.archKernels();
        for (String kernel : entries.keySet()) {
            for (String arch : archKernels.containsKey(kernel) ? List.of(archKernels.get(kernel)) : List.of("sm_80", "sm_90")) {
                assertTrue(reports.stream().anyMatch(k -> k.kernel().equals(kernel) && k.arch().equals(arch)), kernel + " missing from the " + arch + " report");
            }
        }
    }

    @Test
    void convolutionKernelsKeepRegistersWithinOneBlockPerSm() throws IOException {
        // 256 threads x R registers must fit the 64K-register file: R <= 255 is the hardware cap,
        // and the tensor-core kernels are built for one 256-thread block per SM (launch bounds 256,1).
        Map<String, Integer> worst = new LinkedHashMap<>();
        for (KernelReport k : parse(Files.readAllLines(CudaKernelBuild.report()))) worst.merge(k.kernel(), k.registers(), Math::max);
        assertFalse(worst.isEmpty());
        worst.forEach((kernel, r) -> assertTrue(r <= 255, kernel + " uses " + r + " registers"));
        assertTrue(worst.keySet().stream().anyMatch(k -> k.startsWith("sepconv_bn_bf16_m")), "sepconv_bn bf16 kernels present");
    }
}
