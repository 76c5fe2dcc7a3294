package io.jxception.internal.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * The compiled kernels packed into the jar by cuda/build.sh under {@code io/jxception/cuda/}: per
 * module a compute_80 PTX and sm_80/sm_90 cubins, plus {@code kernels.properties}. A device gets the
 * cubin of its major architecture when there is one (a cubin runs on its own major version at the
 * same or a higher minor), otherwise the PTX, which the driver compiles at load time.
 */
public final class CudaKernelImages {
    static final String DIR = "io/jxception/cuda/";
    /** Probe reason when the build had no nvcc. */
    public static final String NOT_COMPILED = "CUDA unavailable: kernels were not compiled (nvcc not found at build time)";

    private CudaKernelImages() {}

    /** One module's image for a device. */
    public record Image(String module, String description, byte[] data) {}

    /** The build manifest, or null when the kernels were not compiled. */
    public static Properties manifest() {
        try (InputStream in = resource("kernels.properties")) {
            if (in == null) return null;
            Properties p = new Properties();
            p.load(in);
            return p;
        } catch (IOException e) {
            return null;
        }
    }

    public static List<String> modules(Properties manifest) {
        return Arrays.stream(manifest.getProperty("modules", "").split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    /** Major CUDA version of the nvcc that built the kernels (13 for 13.0); the driver must support it. */
    public static int nvccMajor(Properties manifest) {
        String v = manifest.getProperty("nvcc", "0");
        try {
            return Integer.parseInt(v.split("\\.")[0]);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** Resource name of the cubin for a compute capability, e.g. conv_fwd.sm_90.cubin for 9.0. */
    public static String cubinName(String module, int ccMajor) { return module + ".sm_" + ccMajor + "0.cubin"; }

    public static Image image(String module, int ccMajor, int ccMinor) throws IOException {
        String cubin = cubinName(module, ccMajor);
        byte[] data = read(cubin);
        if (data != null) return new Image(module, "sm_" + ccMajor + "0 cubin", data);
        byte[] ptx = read(module + ".ptx");
        if (ptx == null) throw new IOException("kernel module " + module + " is missing from the jar (" + DIR + module + ".ptx): rebuild with nvcc on the PATH");
        byte[] z = Arrays.copyOf(ptx, ptx.length + 1);  // the driver wants a NUL-terminated PTX string
        return new Image(module, "compute_80 PTX, JIT-compiled for sm_" + ccMajor + ccMinor, z);
    }

    /**
     * Architecture-specific modules (manifest key {@code archModules}, "module:arch" pairs, e.g.
     * hopper_pwgemm:sm_90a): kernels with instructions only one architecture has (wgmma, setmaxnreg), built
     * as that architecture's cubin alone, loaded only when a backend option asks for them.
     */
    public static java.util.Map<String, String> archModules(Properties manifest) {
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        for (String pair : manifest.getProperty("archModules", "").split(",")) {
            String p = pair.trim();
            if (p.isEmpty()) continue;
            int colon = p.indexOf(':');
            if (colon < 1 || colon == p.length() - 1) throw new IllegalStateException("kernels.properties: archModules entry '" + p + "' is not module:arch");
            out.put(p.substring(0, colon), p.substring(colon + 1));
        }
        return out;
    }

    /** The cubin of architecture-specific {@code module} built for {@code arch} (e.g. "sm_90a"). */
    public static Image archImage(Properties manifest, String module, String arch) throws IOException {
        if (!arch.equals(archModules(manifest).get(module))) {
            throw new IOException("kernel module " + module + " for " + arch + " is not in this build (kernels.properties archModules="
                    + manifest.getProperty("archModules", "") + "): it needs nvcc 12+ with " + arch + " support at build time");
        }
        String name = module + "." + arch + ".cubin";
        byte[] data = read(name);
        if (data == null) throw new IOException("kernel module " + module + " is listed but missing from the jar (" + DIR + name + ")");
        return new Image(module, arch + " cubin", data);
    }

    private static InputStream resource(String name) {
        return CudaKernelImages.class.getClassLoader().getResourceAsStream(DIR + name);
    }

    private static byte[] read(String name) throws IOException {
        try (InputStream in = resource(name)) {
            return in == null ? null : in.readAllBytes();
        }
    }
}
