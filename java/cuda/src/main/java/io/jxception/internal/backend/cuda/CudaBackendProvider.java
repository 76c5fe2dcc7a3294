package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.backend.BackendProvider;
import io.jxception.backend.BackendUnavailableException;
import io.jxception.backend.Precision;
import io.jxception.backend.Probe;
import jcuda.CudaException;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The "cuda" backend kind: NVIDIA GPUs of compute capability 8.0 or newer through the driver API
 * (JCuda, needs only libcuda.so.1). {@link #probe()} never throws; it explains what is missing:
 * kernels not compiled, no driver library, no device, a driver older than the kernels' toolkit.
 * CUDA_VISIBLE_DEVICES is honoured by the driver; "cuda:local" picks the device from the launcher's local
 * rank ({@link io.jxception.internal.backend.LocalRank}) for one-process-per-GPU jobs.
 */
public final class CudaBackendProvider implements BackendProvider {
    /** Rank of CUDA devices for "auto" (see {@link Probe}). */
    public static final int RANK = 300;
    /** Oldest architecture the kernels support (bf16 mma.sync, compute_80 PTX). */
    public static final int MIN_CC_MAJOR = 8;

    @Override public String kind() { return "cuda"; }

    /** The first failure to load JCuda's native driver binding; later attempts only see NoClassDefFoundError. */
    private static volatile String driverLoadFailure;

    @Override public Probe probe() {
        String unsupported = unsupportedPlatform(System.getProperty("os.name", ""), System.getProperty("os.arch", ""));
        if (unsupported != null) return Probe.unavailable("cuda", unsupported);
        try {
            if (driverLoadFailure != null) return Probe.unavailable("cuda", driverLoadFailure);
            return probeDevices();
        } catch (LinkageError e) {
            String reason = "CUDA unavailable: the NVIDIA driver library (libcuda.so.1) could not be loaded: " + loadFailureDetail(e);
            if (driverLoadFailure == null) driverLoadFailure = reason;
            return Probe.unavailable("cuda", driverLoadFailure);
        } catch (CudaException e) {
            return Probe.unavailable("cuda", "CUDA unavailable: " + describe(e));
        } catch (RuntimeException e) {
            return Probe.unavailable("cuda", "CUDA unavailable: " + e);
        }
    }

    /**
     * Why JCuda cannot run on this operating system and architecture, or null where it publishes
     * natives (JCuda 12.6.0: linux-x86_64, windows-x86_64; no linux-aarch64 build on Maven Central).
     */
    static String unsupportedPlatform(String osName, String osArch) {
        String os = osName.toLowerCase(java.util.Locale.ROOT), arch = osArch.toLowerCase(java.util.Locale.ROOT);
        boolean x64 = arch.equals("amd64") || arch.equals("x86_64");
        if ((os.startsWith("linux") || os.startsWith("windows")) && x64) return null;
        return "CUDA unavailable: JCuda publishes no native library for " + osName + " " + osArch
                + " (its builds are linux-x86_64 and windows-x86_64); the cpu and opencl backends run here";
    }

    private static Probe probeDevices() {
        Properties manifest = CudaKernelImages.manifest();
        if (manifest == null) return Probe.unavailable("cuda", CudaKernelImages.NOT_COMPILED);
        initDriver();
        int[] version = new int[1];
        JCudaDriver.cuDriverGetVersion(version);
        int need = CudaKernelImages.nvccMajor(manifest) * 1000;
        if (version[0] < need) {
            return Probe.unavailable("cuda", "CUDA unavailable: the driver supports CUDA " + cudaVersion(version[0]) + " but the kernels were built with nvcc "
                    + manifest.getProperty("nvcc") + ": install a driver for CUDA " + cudaVersion(need) + " or newer, or rebuild with an older nvcc");
        }
        int[] count = new int[1];
        JCudaDriver.cuDeviceGetCount(count);
        List<Probe.Device> devices = new ArrayList<>();
        List<String> tooOld = new ArrayList<>();
        for (int i = 0; i < count[0]; i++) {
            DeviceInfo d = DeviceInfo.query(i);
            if (d.ccMajor() < MIN_CC_MAJOR) {
                tooOld.add(d.name() + " (sm_" + d.ccMajor() + d.ccMinor() + ")");
                continue;
            }
            devices.add(new Probe.Device(i, d.name(), d.details() + ", driver CUDA " + cudaVersion(version[0]) + hopperNote(d.ccMajor(), d.ccMinor(), manifest), RANK));
        }
        if (devices.isEmpty()) {
            String why = count[0] == 0 ? "no CUDA device found" : "no device of compute capability " + MIN_CC_MAJOR + ".0 or newer: " + String.join(", ", tooOld);
            return Probe.unavailable("cuda", "CUDA unavailable: " + why);
        }
        return Probe.of("cuda", devices);
    }

    /**
     * What {@code jxception info} says about the Hopper kernels on a device of compute capability
     * major.minor: they run on 9.0 only, with backend option cuda.pointwise=wgmma or cuda.pwbwd=wgmma, when the build has them.
     */
    static String hopperNote(int major, int minor, Properties manifest) {
        if (major != 9 || minor != 0) return "";
        boolean built = CudaKernelImages.archModules(manifest).values().stream().anyMatch("sm_90a"::equals);
        return built ? ", sm_90a wgmma kernels available (backend options cuda.pointwise=wgmma, cuda.pwbwd=wgmma)"
                : ", no sm_90a wgmma kernels in this build (nvcc without sm_90a support)";
    }

    @Override public KernelBackend open(int index, Precision precision, java.util.Map<String, String> options) {
        return open(index, precision, CudaBackend.Options.parse(options));
    }

    /** Opens device {@code index} with explicit options (memory arena, staging size). */
    public KernelBackend open(int index, Precision precision, CudaBackend.Options options) {
        Probe p = probe();
        if (!p.available()) throw new BackendUnavailableException(p.reason());
        for (Probe.Device d : p.devices()) {
            if (d.index() == index) return new CudaBackend(index, precision, options);
        }
        throw new IllegalArgumentException("no usable CUDA device " + index + ": found " + p.devices().stream().map(d -> d.index() + " " + d.name()).toList());
    }

    /** Opens the device that belongs to this process's local rank ("cuda:local"). */
    // ------------------------------------------------------------------ driver helpers shared with CudaBackend

    static void initDriver() {
        JCudaDriver.setExceptionsEnabled(true);
        JCudaDriver.cuInit(0);
    }

    static String cudaVersion(int v) { return (v / 1000) + "." + (v % 1000) / 10; }

    static String describe(CudaException e) {
        String m = String.valueOf(e.getMessage());
        if (m.contains("CUDA_ERROR_NO_DEVICE")) return "no CUDA device found (check CUDA_VISIBLE_DEVICES and nvidia-smi)";
        if (m.contains("CUDA_ERROR_INSUFFICIENT_DRIVER")) return "the installed NVIDIA driver is too old for this CUDA version (" + m + ")";
        if (m.contains("CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE")) return "the driver's forward-compatibility package does not support this device (" + m + ")";
        return m;
    }

    static String resultName(int code) { return CUresult.stringFor(code); }

    /** JCuda's load error is a multi-line report; the useful line names the library that failed (libcuda.so.1). */
    static String loadFailureDetail(Throwable t) {
        String m = String.valueOf(t.getMessage());
        for (String line : m.split("\n")) {
            if (line.contains("libcuda") || line.contains("cannot open shared object")) {
                int colon = line.indexOf(": ");
                return colon >= 0 && line.startsWith("java.lang.") ? line.substring(colon + 2).trim() : line.trim();
            }
        }
        return firstLine(t);
    }

    private static String firstLine(Throwable t) {
        String m = String.valueOf(t.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /** What the driver says about one device. */
    record DeviceInfo(int index, String name, int ccMajor, int ccMinor, int smCount, int maxSharedPerBlock, long totalBytes, int l2Bytes) {
        static DeviceInfo query(int index) {
            CUdevice dev = new CUdevice();
            JCudaDriver.cuDeviceGet(dev, index);
            byte[] name = new byte[256];
            JCudaDriver.cuDeviceGetName(name, name.length, dev);
            int len = 0;
            while (len < name.length && name[len] != 0) len++;
            long[] total = new long[1];
            JCudaDriver.cuDeviceTotalMem(total, dev);
            return new DeviceInfo(index, new String(name, 0, len, java.nio.charset.StandardCharsets.UTF_8).trim(),
                    attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                    attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
                    attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT),
                    attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN),
                    total[0],
                    attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE));
        }

        String details() {
            return String.format(java.util.Locale.ROOT, "sm_%d%d, %d SMs, %.1f GiB, %d MiB L2, %d KiB shared/block", ccMajor, ccMinor, smCount,
                    totalBytes / (1024.0 * 1024 * 1024), l2Bytes >> 20, maxSharedPerBlock >> 10);
        }

        private static int attribute(CUdevice dev, int a) {
            int[] v = new int[1];
            JCudaDriver.cuDeviceGetAttribute(v, a, dev);
            return v[0];
        }
    }
}
