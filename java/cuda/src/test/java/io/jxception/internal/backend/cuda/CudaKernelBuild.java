package io.jxception.internal.backend.cuda;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Test helper: what cuda/build.sh produced (PTX signatures, the ptxas report), or a skip when nvcc is absent everywhere. */
final class CudaKernelBuild {
    private CudaKernelBuild() {}

    static boolean nvccOnPath() {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(java.io.File.pathSeparator)) if (Files.isExecutable(Path.of(dir, "nvcc"))) return true;
        String home = System.getenv("CUDA_HOME");
        return home != null && Files.isExecutable(Path.of(home, "bin", "nvcc"));
    }

    /** The manifest, failing when nvcc exists but nothing was built, skipping when there is no nvcc. */
    static Properties requireManifest() {
        Properties m = CudaKernelImages.manifest();
        if (m == null) {
            if (nvccOnPath()) throw new AssertionError("nvcc is on the PATH but io/jxception/cuda/kernels.properties is missing: did cuda/build.sh run?");
            Assumptions.abort("kernels not compiled here (no nvcc)");
        }
        return m;
    }

    /**
     * Kernel name → PTX parameter types (u64, u32, f32, ...; a by-value struct such as a CUtensorMap
     * reads "b8[128]") for every .entry of every module: the jar's compute_80 PTX of the common modules
     * and target/cuda/&lt;module&gt;.&lt;arch&gt;.ptx of the architecture-specific ones (e.g. sm_90a).
     */
    static Map<String, List<String>> ptxSignatures() throws IOException {
        Properties m = requireManifest();
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (String module : CudaKernelImages.modules(m)) {
            try (InputStream in = CudaKernelBuild.class.getClassLoader().getResourceAsStream(CudaKernelImages.DIR + module + ".ptx")) {
                if (in == null) throw new AssertionError("missing PTX for module " + module);
                out.putAll(entries(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
            }
        }
        for (Map.Entry<String, String> e : CudaKernelImages.archModules(m).entrySet()) out.putAll(entries(Files.readString(archPtx(e.getKey(), e.getValue()))));
        return out;
    }

    /** Kernel name → architecture ("sm_90a") of the kernels in architecture-specific modules. */
    static Map<String, String> archKernels() throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : CudaKernelImages.archModules(requireManifest()).entrySet()) {
            for (String kernel : entries(Files.readString(archPtx(e.getKey(), e.getValue()))).keySet()) out.put(kernel, e.getValue());
        }
        return out;
    }

    /** Kernel name → the block size its {@code __launch_bounds__} allows (PTX {@code .maxntid}), for every kernel that declares one. */
    static Map<String, Integer> maxThreads() throws IOException {
        Properties m = requireManifest();
        StringBuilder all = new StringBuilder();
        for (String module : CudaKernelImages.modules(m)) {
            try (InputStream in = CudaKernelBuild.class.getClassLoader().getResourceAsStream(CudaKernelImages.DIR + module + ".ptx")) {
                if (in == null) throw new AssertionError("missing PTX for module " + module);
                all.append(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        }
        for (Map.Entry<String, String> e : CudaKernelImages.archModules(m).entrySet()) all.append(Files.readString(archPtx(e.getKey(), e.getValue())));
        Map<String, Integer> out = new LinkedHashMap<>();
        Matcher e = Pattern.compile("\\.entry\\s+(\\w+)\\s*\\([^)]*\\)\\s*\\.maxntid\\s+(\\d+)\\s*,\\s*1\\s*,\\s*1").matcher(all);
        while (e.find()) out.put(e.group(1), Integer.parseInt(e.group(2)));
        return out;
    }

    private static Path archPtx(String module, String arch) {
        Path p = Path.of("java", "cuda", "target", "cuda", module + "." + arch + ".ptx");
        if (!Files.isRegularFile(p)) throw new AssertionError("kernels.properties lists " + module + ":" + arch + " but " + p.toAbsolutePath() + " is missing");
        return p;
    }

    /** The .entry signatures of one PTX file. */
    static Map<String, List<String>> entries(String ptx) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        Pattern entry = Pattern.compile("\\.entry\\s+(\\w+)\\s*\\(([^)]*)\\)");
        Pattern param = Pattern.compile("\\.param\\s+(?:\\.align\\s+\\d+\\s+)?\\.(\\w+)\\s+\\w+(\\[\\d+\\])?");
        Matcher e = entry.matcher(ptx);
        while (e.find()) {
            List<String> types = new ArrayList<>();
            Matcher p = param.matcher(e.group(2));
            while (p.find()) types.add(p.group(1) + (p.group(2) == null ? "" : p.group(2)));
            out.put(e.group(1), types);
        }
        return out;
    }

    /** The ptxas -v report written by cuda/build.sh. */
    static Path report() {
        requireManifest();
        Path p = Path.of("java", "cuda", "target", "cuda", "ptxas-report.txt");
        if (!Files.isRegularFile(p)) throw new AssertionError("kernels are packed but " + p.toAbsolutePath() + " is missing: run the Maven build (cuda/build.sh)");
        return p;
    }
}
