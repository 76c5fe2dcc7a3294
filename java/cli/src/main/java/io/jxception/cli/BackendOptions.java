package io.jxception.cli;

import io.jxception.internal.backend.KernelBackend;
import io.jxception.backend.Backend;
import io.jxception.backend.Backends;
import io.jxception.backend.Precision;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/** {@code --backend} and {@code --precision}, shared by the commands that run the network. */
final class BackendOptions {
    private static final Pattern NAME = Pattern.compile("auto|(cpu|opencl|cuda)(:(\\d+|local))?");

    @Option(names = "--backend", defaultValue = "auto", paramLabel = "B", converter = NameConverter.class,
            description = "auto (fastest available, the default), cpu, opencl[:i] or cuda[:i] (i = local: the launcher's local rank); 'jxception info' lists them."
                    + " infer and classify take several, comma-separated (cuda:0,cuda:1): one session per device, batches spread over them.")
    String backend;

    @Option(names = "--precision", defaultValue = "fp32", paramLabel = "P", converter = PrecisionConverter.class,
            description = "fp32 (default), tf32, bf16 or fp16, where the backend supports it.")
    Precision precision;

    @Option(names = "--backend-option", paramLabel = "KEY=VALUE",
            description = "A backend option, repeatable: cuda.sepconv=split|fused, cuda.sepconvChunkMiB=N, cuda.pointwise=mma|wgmma, cuda.stem=new|old, cuda.pwbwd=ffma|mma|wgmma, cuda.sync=true|false (README, Backends).")
    java.util.Map<String, String> backendOptions = new java.util.LinkedHashMap<>();

    @Spec(Spec.Target.MIXEE) CommandSpec mixee;

    /**
     * Opens the backend. A name or precision the backend rejects is a usage error (exit 2); a known
     * backend that cannot run here throws {@link io.jxception.backend.BackendUnavailableException}
     * with the reason (exit 1).
     */
    KernelBackend open() { return open(false); }

    /**
     * {@link #open()}; with {@code onePerRank} (one of several processes of a job) {@code auto}
     * means the kind auto picks at this process's local rank ({@code cuda:local}, {@code opencl:local}),
     * so that the processes of a node do not share one device.
     */
    KernelBackend open(boolean onePerRank) {
        List<String> names = names();
        if (names.size() != 1) throw new CommandLine.ParameterException(mixee.commandLine(), "this command runs on one backend, got --backend " + backend);
        if (onePerRank && backend.equals("auto")) {
            String kind;
            try (Backend best = open("auto")) {
                kind = best.name().contains(":") ? best.name().substring(0, best.name().indexOf(':')) : best.name();
            }
            return open(kind.equals("cpu") ? kind : kind + ":local");
        }
        return open(names.get(0));
    }

    /** The backend names given, in order (one or more; the same device twice is refused). */
    List<String> names() {
        List<String> names = List.of(backend.split(","));
        if (new java.util.HashSet<>(names).size() != names.size()) {
            throw new CommandLine.ParameterException(mixee.commandLine(), "--backend " + backend + " names a device twice: give each device once");
        }
        return names;
    }

    /** Opens one backend by name, with the same error rules as {@link #open()}. */
    KernelBackend open(String name) {
        try {
            return KernelBackend.of(Backends.open(name, precision, backendOptions));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(mixee.commandLine(), e.getMessage());
        }
    }

    static final class NameConverter implements CommandLine.ITypeConverter<String> {
        @Override public String convert(String value) {
            StringBuilder out = new StringBuilder();
            for (String part : value.split(",", -1)) {
                String s = part.trim().toLowerCase(Locale.ROOT);
                if (!NAME.matcher(s).matches()) {
                    throw new CommandLine.TypeConversionException("unknown backend '" + part.trim() + "': expected auto, cpu, opencl[:i] or cuda[:i]"
                            + (value.contains(",") ? " (several: comma-separated, e.g. cuda:0,cuda:1)" : ""));
                }
                out.append(out.length() == 0 ? "" : ",").append(s);
            }
            return out.toString();
        }
    }

    static final class PrecisionConverter implements CommandLine.ITypeConverter<Precision> {
        @Override public Precision convert(String value) {
            try {
                return Precision.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
