package io.jxception.cli;

import io.jxception.internal.backend.KernelBackend;
import io.jxception.backend.Backend;
import io.jxception.backend.Backends;
import io.jxception.backend.Precision;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.Locale;
import java.util.regex.Pattern;

/** {@code --backend} and {@code --precision}, shared by the commands that run the network. */
final class BackendOptions {
    private static final Pattern NAME = Pattern.compile("auto|(cpu|opencl|cuda)(:(\\d+|local))?");

    @Option(names = "--backend", defaultValue = "auto", paramLabel = "B", converter = NameConverter.class,
            description = "auto (fastest available, the default), cpu, opencl[:i] or cuda[:i] (i = local: the launcher's local rank); 'jxception info' lists them.")
    String backend;

    @Option(names = "--precision", defaultValue = "fp32", paramLabel = "P", converter = PrecisionConverter.class,
            description = "fp32 (default), tf32, bf16 or fp16, where the backend supports it.")
    Precision precision;

    @Option(names = "--backend-option", paramLabel = "KEY=VALUE",
            description = "A backend option, repeatable: cuda.sepconv=split|fused, cuda.sepconvChunkMiB=N, cuda.stem=new|old, cuda.sync=true|false (README, Backends).")
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
        try {
            if (onePerRank && backend.equals("auto")) {
                String kind;
                try (Backend best = Backends.open("auto", precision, backendOptions)) {
                    kind = best.name().contains(":") ? best.name().substring(0, best.name().indexOf(':')) : best.name();
                }
                return KernelBackend.of(Backends.open(kind.equals("cpu") ? kind : kind + ":local", precision, backendOptions));
            }
            return KernelBackend.of(Backends.open(backend, precision, backendOptions));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(mixee.commandLine(), e.getMessage());
        }
    }

    static final class NameConverter implements CommandLine.ITypeConverter<String> {
        @Override public String convert(String value) {
            String s = value.trim().toLowerCase(Locale.ROOT);
            if (!NAME.matcher(s).matches()) {
                throw new CommandLine.TypeConversionException("unknown backend '" + value + "': expected auto, cpu, opencl[:i] or cuda[:i]");
            }
            return s;
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
