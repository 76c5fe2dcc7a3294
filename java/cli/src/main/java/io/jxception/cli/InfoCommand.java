package io.jxception.cli;

import io.jxception.backend.Backends;
import io.jxception.backend.Probe;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.List;

/** {@code jxception info}: every backend kind this build knows, what it found, or why it cannot run. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "List backends and devices; for each missing backend, say why.")
final class InfoCommand extends Subcommand {
    @Override
    int execute() {
        PrintWriter out = out();
        out.println(new Main.Version().getVersion()[0] + " on " + System.getProperty("os.name") + " " + System.getProperty("os.arch")
                + ", " + Runtime.getRuntime().availableProcessors() + " cores, max heap " + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB");
        List<Probe> probes = Backends.probeAll();
        if (probes.isEmpty()) {
            out.println("no backends in this build");
            return 0;
        }
        for (Probe p : probes) {
            if (!p.available()) {
                out.printf("%-7s unavailable: %s%n", p.kind(), p.reason());
                continue;
            }
            out.printf("%-7s %d device%s%n", p.kind(), p.devices().size(), p.devices().size() == 1 ? "" : "s");
            for (Probe.Device d : p.devices()) {
                out.printf("  %s:%d  %s%s  (auto rank %d)%n", p.kind(), d.index(), d.name(),
                        d.details() == null || d.details().isBlank() ? "" : ", " + d.details(), d.rank());
            }
        }
        out.println("--backend auto picks the available device with the highest rank");
        return 0;
    }
}
