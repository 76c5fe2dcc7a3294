package io.jxception.cli;

import io.jxception.internal.text.Printable;
import picocli.CommandLine;

import java.io.PrintWriter;

/**
 * How every error leaves jxception: one line "jxception: error: ..." on stderr (the stack trace
 * too with {@code --verbose}), exit code {@link #USAGE} for a wrong command line, {@link #RUNTIME}
 * for anything that failed while running (files, weights, devices, numerics). The line is printed
 * through {@link Printable#escape}: names and values quoted from files (or typed) can never print a
 * control character, a terminal escape or a second line.
 */
final class Failure {
    static final int RUNTIME = 1;
    static final int USAGE = 2;

    private Failure() {}

    /** Parameter-exception handler: unknown options, bad values, missing arguments. */
    static int usage(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println("jxception: error: " + Printable.escape(e.getMessage()) + " (see '" + cmd.getCommandSpec().qualifiedName() + " --help')");
        if (verbose(cmd)) e.printStackTrace(err);
        err.flush();
        return USAGE;
    }

    /** A run-time failure of a subcommand. */
    static int runtime(CommandLine cmd, Throwable e) {
        PrintWriter err = cmd.getErr();
        err.println("jxception: error: " + Printable.escape(message(e)));
        if (verbose(cmd)) e.printStackTrace(err);
        err.flush();
        return RUNTIME;
    }

    static String message(Throwable e) {
        if (e instanceof OutOfMemoryError) {
            return "out of Java heap memory (" + e.getMessage() + "): use a smaller --batch, or give Java more with JXCEPTION_JAVA_OPTS=-Xmx16g";
        }
        String m = e.getMessage();
        if (m == null || m.isBlank()) return e.getClass().getSimpleName() + (e.getCause() != null ? ": " + message(e.getCause()) : "");
        return m;
    }

    private static boolean verbose(CommandLine cmd) {
        for (CommandLine c = cmd; c != null; c = c.getParent()) {
            if (c.getCommand() instanceof Main m) return m.verbose;
        }
        return false;
    }
}
