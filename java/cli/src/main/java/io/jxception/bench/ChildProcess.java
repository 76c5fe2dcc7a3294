package io.jxception.bench;

import io.jxception.internal.json.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a peer script as a child process with a wall-time budget: stdout and stderr go to temporary
 * files (a child that writes much can never block on a full pipe), stdin gets {@code input}, and
 * past the budget the child and everything it started (torch.compile's compile workers) are
 * killed. What the child wrote before that is kept: the peers print a complete JSON line after
 * every result, so a killed run still reports the results it finished.
 */
final class ChildProcess {
    private ChildProcess() {}

    /** @param exitStatus the child's, or -1 when it was killed at the budget */
    record Result(int exitStatus, boolean timedOut, String stdout, String stderr) {
        /** The last stdout line that is a JSON object, or null. */
        java.util.Map<String, Object> lastJsonObject() {
            String[] lines = stdout.split("\n");
            for (int i = lines.length - 1; i >= 0; i--) {
                String l = lines[i].strip();
                if (!l.startsWith("{")) continue;
                try {
                    return Json.parseObject(l);
                } catch (IllegalArgumentException e) {
                    // a line cut short by the kill: try the one before
                }
            }
            return null;
        }

        /** The last non-blank stderr line (the peers print what they start there), or "". */
        String lastStderrLine() {
            String[] lines = stderr.strip().split("\n");
            return lines[lines.length - 1].strip();
        }

        /** The end of stderr, for notes. */
        String stderrTail(int chars) { return stderr.substring(Math.max(0, stderr.length() - chars)).strip(); }
    }

    /**
     * @param budgetSeconds wall time before the child is killed; 0 or less: no limit
     * @throws IOException when the command cannot be started (no such interpreter)
     */
    static Result run(List<String> command, String input, long budgetSeconds) throws IOException, InterruptedException {
        Path out = Files.createTempFile("jxception-peer", ".out"), err = Files.createTempFile("jxception-peer", ".err");
        try {
            Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            try (var stdin = p.getOutputStream()) {
                if (input != null) stdin.write(input.getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                // the child exited before reading its input: its status and stderr say why
            }
            boolean done = true;
            try {
                if (budgetSeconds > 0) done = p.waitFor(budgetSeconds, TimeUnit.SECONDS);
                else p.waitFor();
            } catch (InterruptedException e) {
                kill(p);
                throw e;
            }
            if (!done) kill(p);
            return new Result(done ? p.exitValue() : -1, !done, Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static void kill(Process p) throws InterruptedException {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
    }
}
