package io.jxception.internal.backend.opencl;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time of this process in nanoseconds, all threads (pocl's workers included), from the
 * scheduler's per-thread run time in /proc/self/task/N/schedstat (nanosecond resolution, unlike the
 * 10 ms ticks of getProcessCpuTime). For benchmarks on a machine shared with other jobs.
 */
final class ProcessCpu {
    private ProcessCpu() {}

    static long nanos() {
        long total = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path t : tasks) {
                try {
                    String s = Files.readString(t.resolve("schedstat"));
                    total += Long.parseLong(s.substring(0, s.indexOf(' ')));
                } catch (IOException | RuntimeException gone) {
                    // the thread ended between listing and reading
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self/task: " + e.getMessage(), e);
        }
        return total;
    }
}
