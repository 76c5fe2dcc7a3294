package io.jxception.backend;

import io.jxception.internal.backend.BackendProvider;
import io.jxception.internal.backend.BackendProviders;
import io.jxception.internal.backend.LocalRank;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Finds and opens backends by name: {@code cpu}, {@code opencl[:i]}, {@code cuda[:i]}, or
 * {@code auto} (the fastest available device); {@code cuda:local} / {@code opencl:local} pick the
 * device from the launcher's local rank ({@code SLURM_LOCALID}, {@code OMPI_COMM_WORLD_LOCAL_RANK},
 * {@code MV2_COMM_WORLD_LOCAL_RANK} or {@code LOCAL_RANK}) for one-process-per-device jobs.
 *
 * <p>The kinds are found through {@link java.util.ServiceLoader} on the calling thread's context class
 * loader: {@code cpu} and {@code opencl} come with jxception-core, {@code cuda} with the jxception-cuda
 * artifact. Nothing here is global state: each call probes anew, and every method may be called from
 * any thread.
 *
 * <p>Backend options tune one kind's kernels per backend, never JVM-wide: a map of
 * {@code "<kind>.<name>"} to a value, e.g. {@code cuda.stem=old}. The CUDA backend knows
 * {@code cuda.sepconv} ({@code split} or {@code fused}), {@code cuda.sepconvChunkMiB} (a whole number),
 * {@code cuda.stem} ({@code new} or {@code old}), {@code cuda.pwbwd} ({@code ffma}, {@code mma} or {@code wgmma}: the
 * pointwise GEMMs of the 16-bit separable conv backward) and {@code cuda.sync} ({@code true}: wait after
 * every launch, for debugging); cpu and opencl know none. Entries for kinds other than the one opened are
 * ignored, so one map can go with {@code auto}.
 */
public final class Backends {
    private static final Set<String> KINDS_WITH_OPTIONS = Set.of("cpu", "opencl", "cuda");

    private Backends() {}

    /** Every backend kind on the class path with what it found: devices, or why it cannot run here. Never throws. */
    public static List<Probe> probeAll() {
        List<Probe> out = new ArrayList<>();
        for (BackendProvider p : BackendProviders.all()) out.add(p.probe());
        return out;
    }

    /** The Java reference backend (float64 arithmetic, fp32 storage): always available. */
    public static Backend cpu() { return open("cpu", Precision.FP32); }

    /** {@link #open(String, Precision, Map)} with the default options. */
    public static Backend open(String spec, Precision precision) { return open(spec, precision, Map.of()); }

    /**
     * Opens a backend by command-line name ({@code auto}, {@code cpu}, {@code opencl[:i|:local]},
     * {@code cuda[:i|:local]}) in {@code precision}, with backend {@code options} (see the class comment).
     *
     * @throws BackendUnavailableException with the probe's reason when the kind cannot run here
     *                                     (no driver, no device, not on the class path)
     * @throws IllegalArgumentException    for an unknown name, a device index out of range, a
     *                                     precision the backend does not offer, or a bad option
     */
    public static Backend open(String spec, Precision precision, Map<String, String> options) {
        requireKnownOptionKinds(options);
        String s = spec.trim().toLowerCase(Locale.ROOT);
        if (s.equals("auto")) return openBest(precision, options);
        String kind = s;
        String indexText = null;
        int colon = s.indexOf(':');
        if (colon >= 0) {
            kind = s.substring(0, colon);
            indexText = s.substring(colon + 1);
        }
        for (BackendProvider p : BackendProviders.all()) {
            if (!p.kind().equals(kind)) continue;
            Probe probe = p.probe();
            if (!probe.available()) throw new BackendUnavailableException(unavailableMessage(probe));
            int count = probe.devices().size();
            int index;
            if (indexText == null) index = 0;
            else if (indexText.equals("local")) index = LocalRank.deviceIndex(System.getenv(), count);
            else {
                try {
                    index = Integer.parseInt(indexText);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("bad backend '" + spec + "': the part after ':' must be a device index or 'local', e.g. opencl:0, cuda:local");
                }
            }
            if (index < 0 || index >= count) {
                throw new IllegalArgumentException("no " + kind + " device " + index + ": " + count + " found (see 'jxception info')");
            }
            return p.open(index, precision, options);
        }
        if (kind.equals("cuda")) {
            throw new BackendUnavailableException("cuda unavailable: the CUDA backend is not on the class path: add the io.jxception:jxception-cuda artifact");
        }
        throw new IllegalArgumentException("unknown backend '" + spec + "': expected auto, cpu, opencl[:i] or cuda[:i]");
    }

    /** "cuda unavailable: why", without doubling the prefix when the probe's reason already has it. */
    public static String unavailableMessage(Probe probe) {
        String prefix = probe.kind() + " unavailable: ", reason = probe.reason();
        return reason.regionMatches(true, 0, prefix, 0, prefix.length()) ? reason : prefix + reason;
    }

    /** The available device with the highest rank (a CUDA GPU, then an OpenCL GPU, then OpenCL on the CPU, then cpu), default options. */
    public static Backend openBest(Precision precision) { return openBest(precision, Map.of()); }

    private static Backend openBest(Precision precision, Map<String, String> options) {
        BackendProvider bestProvider = null;
        Probe.Device best = null;
        for (BackendProvider p : BackendProviders.all()) {
            Probe probe = p.probe();
            if (!probe.available()) continue;
            for (Probe.Device d : probe.devices()) {
                if (best == null || d.rank() > best.rank()) {
                    best = d;
                    bestProvider = p;
                }
            }
        }
        if (bestProvider == null) throw new BackendUnavailableException("no backend available");
        return bestProvider.open(best.index(), precision, options);
    }

    private static void requireKnownOptionKinds(Map<String, String> options) {
        for (Map.Entry<String, String> e : options.entrySet()) {
            String key = e.getKey();
            int dot = key == null ? -1 : key.indexOf('.');
            if (dot <= 0 || !KINDS_WITH_OPTIONS.contains(key.substring(0, dot))) {
                throw new IllegalArgumentException("bad backend option '" + key + "': expected <kind>.<name> with kind cpu, opencl or cuda, e.g. cuda.stem");
            }
            if (e.getValue() == null) throw new IllegalArgumentException("backend option '" + key + "' has no value");
        }
    }
}
