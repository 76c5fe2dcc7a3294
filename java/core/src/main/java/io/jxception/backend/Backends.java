package io.jxception.backend;

import io.jxception.internal.backend.BackendProvider;
import io.jxception.internal.backend.BackendProviders;
import io.jxception.internal.backend.LocalRank;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Finds and opens backends by name: {@code cpu}, {@code opencl[:i]}, {@code cuda[:i]}, or
 * {@code auto} (the fastest available device); {@code cuda:local} / {@code opencl:local} pick the
 * device from the launcher's local rank ({@link LocalRank}) for one-process-per-device jobs. Nothing here is global state: each call probes anew.
 */
public final class Backends {
    private Backends() {}

    public static List<Probe> probeAll() {
        List<Probe> out = new ArrayList<>();
        for (BackendProvider p : BackendProviders.all()) out.add(p.probe());
        return out;
    }

    public static Backend cpu() { return open("cpu", Precision.FP32); }

    /**
     * Opens a backend by command-line name. Throws {@link BackendUnavailableException} with the probe's
     * reason when the kind is unavailable, and {@link IllegalArgumentException} for an unknown name.
     */
    public static Backend open(String spec, Precision precision) {
        String s = spec.trim().toLowerCase(Locale.ROOT);
        if (s.equals("auto")) return openBest(precision);
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
            return p.open(index, precision);
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

    /** The available device with the highest rank. */
    public static Backend openBest(Precision precision) {
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
        return bestProvider.open(best.index(), precision);
    }
}
