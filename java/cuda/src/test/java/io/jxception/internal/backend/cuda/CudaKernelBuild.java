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

    /** Kernel name → PTX parameter types (u64, u32, f32, ...) for every .entry of every module. */
    static Map<String, List<String>> ptxSignatures() throws IOException {
        Properties m = requireManifest();
        Map<String, List<String>> out = new LinkedHashMap<>();
        Pattern entry = Pattern.compile("\\.entry\\s+(\\w+)\\s*\\(([^)]*)\\)");
        Pattern param = Pattern.compile("\\.param\\s+\\.(\\w+)");
        for (String module : CudaKernelImages.modules(m)) {
            String ptx;
            try (InputStream in = CudaKernelBuild.class.getClassLoader().getResourceAsStream(CudaKernelImages.DIR + module + ".ptx")) {
                if (in == null) throw new AssertionError("missing PTX for module " + module);
                ptx = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            Matcher e = entry.matcher(ptx);
            while (e.find()) {
                List<String> types = new ArrayList<>();
                Matcher p = param.matcher(e.group(2));
                while (p.find()) types.add(p.group(1));
                out.put(e.group(1), types);
            }
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
