package io.jxception.cli;

import io.jxception.backend.Backends;
import io.jxception.backend.Probe;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class InfoCommandTest {
    @Test
    void listsCpuAndEveryKindWithDevicesOrReason() {
        Cli.Result r = Cli.run("info");
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().contains("\ncpu "), r.toString());
        assertTrue(r.out().contains("  cpu:0  "), r.toString());
        for (Probe p : Backends.probeAll()) {
            String line = r.out().lines().filter(l -> l.startsWith(p.kind() + " ")).findFirst().orElseThrow(() -> new AssertionError("no line for " + p.kind() + "\n" + r));
            if (p.available()) {
                for (Probe.Device d : p.devices()) assertTrue(r.out().contains(p.kind() + ":" + d.index() + "  " + d.name()), r.toString());
            } else {
                assertTrue(line.contains("unavailable: " + p.reason()), line);
            }
        }
    }
}
