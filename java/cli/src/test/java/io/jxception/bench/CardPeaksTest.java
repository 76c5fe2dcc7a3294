package io.jxception.bench;

import io.jxception.internal.json.Json;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The roofline's ceilings: the best probe on each card, ours or the vendor's, chosen without a GPU from recorded probe outputs. */
class CardPeaksTest {
    static final String CUDA_BF16 = "NVIDIA H200 (sm_90, 132 SMs, 139.8 GiB, 60 MiB L2, 227 KiB shared/block), bf16, kernels: sm_90 cubin, split sepconv";
    static final String CUDA_FP32 = "NVIDIA H200 (sm_90, 132 SMs, 139.8 GiB, 60 MiB L2, 227 KiB shared/block), fp32, kernels: sm_90 cubin, split sepconv";
    static final String OPENCL_FP32 = "NVIDIA H200 (GPU, 132 compute units, 139.8 GiB, OpenCL 3.0 CUDA (NVIDIA CUDA)), fp32, library /usr/lib/x86_64-linux-gnu/libOpenCL.so.1";
    static final String POCL_FP32 = "pthread-skylake-avx512-AMD EPYC (CPU, 2 compute units, 5.0 GiB, OpenCL 3.0 PoCL 3.1 (Portable Computing Language)), fp32, library x";
    static final String CPU_REFERENCE = "Java reference (2 threads), float64 arithmetic, float32 transfers";

    /** What card_peaks.py printed: bf16 at two sizes, fp32 out of memory at the larger, one copy. */
    static final String PROBES = """
            {"peer": "card_peaks", "torch": "2.11.0+cu130", "library": "torch 2.11.0+cu130 torch.matmul (cuBLAS, CUDA 13.0)",
             "device": "cuda", "device_name": "NVIDIA H200",
             "compute": [{"precision": "bf16", "n": 8192, "flops": 1099511627776, "median_ms": 1.45, "min_ms": 1.4, "max_ms": 1.6, "samples": 10},
                         {"precision": "bf16", "n": 16384, "flops": 8796093022208, "median_ms": 11.6, "min_ms": 11.5, "max_ms": 11.9, "samples": 10},
                         {"precision": "fp32", "n": 8192, "flops": 1099511627776, "median_ms": 22.5, "min_ms": 22.0, "max_ms": 23.0, "samples": 10},
                         {"precision": "fp32", "n": 16384, "error": "CUDA out of memory. Tried to allocate 1.00 GiB"}],
             "bandwidth": [{"what": "copy_", "buffer_bytes": 2147483648, "bytes": 4294967296, "median_ms": 1.05, "min_ms": 1.0, "max_ms": 1.1, "samples": 10}]}
            """;

    @Test
    void aCardIsTheDeviceNameThatStartsEveryBackendDescription() {
        assertEquals("NVIDIA H200", CardPeaks.card(CUDA_BF16));
        assertEquals("NVIDIA H200", CardPeaks.card(OPENCL_FP32), "CUDA and OpenCL on one card share it");
        assertEquals("pthread-skylake-avx512-AMD EPYC", CardPeaks.card(POCL_FP32));
        assertEquals("Java reference", CardPeaks.card(CPU_REFERENCE));
        assertTrue(CardPeaks.isGpu(CUDA_BF16));
        assertTrue(CardPeaks.isGpu(OPENCL_FP32));
        assertFalse(CardPeaks.isGpu(POCL_FP32));
        assertFalse(CardPeaks.isGpu(CPU_REFERENCE));
    }

    @Test
    void theVendorProbesGiveTheFastestProductPerPrecisionAndTheFastestCopy() {
        List<String> notes = new ArrayList<>();
        List<CardPeaks.Source> s = CardPeaks.parse(Json.parseObject(PROBES), "2026-12-01T10:00:00Z", notes);
        assertEquals(List.of("card peaks: torch.matmul fp32 16384^3 failed: CUDA out of memory. Tried to allocate 1.00 GiB"), notes);
        assertEquals(3, s.size(), s.toString());
        CardPeaks.Source bf16 = s.get(0), fp32 = s.get(1), copy = s.get(2);
        assertEquals(1099511627776.0 / 1.4e-3, bf16.flopsPerSecond(), 1, "8192^3 at its fastest repetition beats 16384^3");
        assertEquals("cuBLAS via torch.matmul", bf16.source());
        assertEquals("torch.matmul 8192x8192x8192 bf16, 1.10 TFLOP per product, fastest of 10 (torch 2.11.0+cu130 torch.matmul (cuBLAS, CUDA 13.0))",
                bf16.computeProbe());
        assertTrue(Double.isNaN(bf16.bytesPerSecond()));
        assertEquals("fp32", fp32.precision());
        assertEquals(4294967296.0 / 1.0e-3, copy.bytesPerSecond(), 1, "read + write of the 2 GiB buffer in its fastest millisecond");
        assertEquals("NVIDIA H200", copy.card());
        assertTrue(copy.bandwidthProbe().startsWith("dst.copy_(src) over two 2048 MiB fp32 buffers on the device, read + write counted (4096 MiB per copy)"),
                copy.bandwidthProbe());
    }

    @Test
    void eachConfigurationTakesTheBestProbeOnItsCardOursOrTheVendors() {
        List<CardPeaks.Source> sources = new ArrayList<>(CardPeaks.parse(Json.parseObject(PROBES), "2026-12-01T10:00:00Z", new ArrayList<>()));
        sources.add(CardPeaks.Source.ours("cuda:0", "bf16", new Peaks(CUDA_BF16, 198e12, 2.64e12, "separable conv 3x3 2048->2048", "addInPlace", "t1")));
        sources.add(CardPeaks.Source.ours("cuda:0", "fp32", new Peaks(CUDA_FP32, 60e12, 2.67e12, "separable conv 3x3 1024->1024", "addInPlace", "t2")));
        sources.add(CardPeaks.Source.ours("opencl:0", "fp32", new Peaks(OPENCL_FP32, 9e12, 4.5e12, "separable conv 3x3 728->728", "addInPlace", "t3")));
        sources.add(CardPeaks.Source.ours("opencl:1", "fp32", new Peaks(POCL_FP32, 0.2e12, 0.04e12, "separable conv (pocl)", "addInPlace (pocl)", "t4")));

        Peaks bf16 = CardPeaks.select(CUDA_BF16, "bf16", sources).orElseThrow();
        assertEquals(CUDA_BF16, bf16.device(), "the configuration's own description: the layer rows' key");
        assertEquals(1099511627776.0 / 1.4e-3, bf16.flopsPerSecond(), 1, "cuBLAS's 785 TFLOP/s, not our 198");
        assertTrue(bf16.computeProbe().startsWith("cuBLAS via torch.matmul: torch.matmul 8192x8192x8192 bf16"), bf16.computeProbe());
        assertEquals(4.5e12, bf16.bytesPerSecond(), 1, "bandwidth is the card's in every precision: OpenCL's fp32 addInPlace beat the copy");
        assertEquals("jxception opencl:0: addInPlace", bf16.bandwidthProbe());

        Peaks openclFp32 = CardPeaks.select(OPENCL_FP32, "fp32", sources).orElseThrow();
        assertEquals(60e12, openclFp32.flopsPerSecond(), 1, "our CUDA fp32 kernel beat cuBLAS's strict fp32 and our OpenCL on the same card");
        assertEquals("jxception cuda:0: separable conv 3x3 1024->1024", openclFp32.computeProbe());
        assertEquals(CardPeaks.select(CUDA_FP32, "fp32", sources).orElseThrow().flopsPerSecond(), openclFp32.flopsPerSecond(),
                "CUDA and OpenCL on one card in one precision have one ceiling");

        Peaks pocl = CardPeaks.select(POCL_FP32, "fp32", sources).orElseThrow();
        assertEquals(0.2e12, pocl.flopsPerSecond(), 1, "a CPU keeps its own probes: no GPU's count");
        assertEquals("jxception opencl:1: addInPlace (pocl)", pocl.bandwidthProbe());
        assertTrue(CardPeaks.select(CUDA_BF16.replace("H200", "H100"), "bf16", sources).isEmpty(), "no probe on that card");
    }

    @Test
    void vendorProbesAreCachedPerCardAndPrecision(@TempDir Path dir) {
        List<CardPeaks.Source> vendor = CardPeaks.parse(Json.parseObject(PROBES), "2026-12-01T10:00:00Z", new ArrayList<>());
        Path file = dir.resolve("peaks.json");
        PeakCache cache = PeakCache.load(file, w -> fail(w));
        CardPeaks.toCache(vendor, "NVIDIA H200", "bf16").ifPresent(cache::put);
        CardPeaks.toCache(vendor, "NVIDIA H200", "fp32").ifPresent(cache::put);
        assertTrue(CardPeaks.toCache(vendor, "NVIDIA H200", "tf32").isEmpty(), "tf32 was not probed");
        PeakCache again = PeakCache.load(file, w -> fail(w));
        Peaks cached = again.get(CardPeaks.cacheName("NVIDIA H200", "bf16")).orElseThrow();
        List<CardPeaks.Source> back = CardPeaks.fromCache("NVIDIA H200", "bf16", cached);
        assertEquals(CardPeaks.select(CUDA_BF16, "bf16", vendor), CardPeaks.select(CUDA_BF16, "bf16", back), "the cache gives the same ceilings");
        assertTrue(again.get(CardPeaks.cacheName("NVIDIA H100", "bf16")).isEmpty(), "keyed by the card");
    }

    @Test
    void withoutTheScriptOrAGpuTheCeilingsAreOursAndTheNoteSaysWhy(@TempDir Path dir) {
        var noScript = new BenchOptions.PeerOptions(true, null, null, 1, 0, null, null, List.of("keras"), List.of(), List.of(),
                dir.resolve("missing.py"), null);
        CardPeaks.Outcome o = CardPeaks.measure(noScript, List.of("bf16"), 10);
        assertTrue(o.sources().isEmpty());
        assertEquals(List.of("card peaks: vendor probes unavailable: no script at " + dir.resolve("missing.py")
                + " (run from the repository root or pass --peaks-script); the ceilings are our kernels' alone"), o.notes());

        var script = new BenchOptions.PeerOptions(true, null, null, 1, 0, null, null, List.of("keras"), List.of(), List.of(),
                Path.of("benchmarks/peers/card_peaks.py"), null);
        o = CardPeaks.measure(script, List.of("bf16"), 120);
        Assumptions.assumeTrue(o.sources().isEmpty(), "a machine with a GPU measured its card: " + o.sources());
        assertEquals(1, o.notes().size(), o.notes().toString());
        String n = o.notes().get(0);
        assertTrue(n.startsWith("card peaks: vendor probes unavailable: ") && n.endsWith("; the ceilings are our kernels' alone"), n);
        assertTrue(n.contains("sees no CUDA device") || n.contains("torch not found"), n);
    }
}
