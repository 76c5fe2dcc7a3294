package io.jxception.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * Base of the subcommands: runs {@link #execute()} and turns any failure into jxception's error
 * line and exit code. Usage errors are thrown as {@link #usage} and reach {@link Failure#usage}.
 */
abstract class Subcommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    /** Does the work; returns the exit code (0). */
    abstract int execute() throws Exception;

    @Override
    public final Integer call() {
        try {
            return execute();
        } catch (CommandLine.ParameterException e) {
            throw e;
        } catch (Exception | OutOfMemoryError | StackOverflowError e) {
            return Failure.runtime(spec.commandLine(), e);
        }
    }

    /** A wrong command line: the caller throws it; exit code 2. */
    CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    PrintWriter out() { return spec.commandLine().getOut(); }

    PrintWriter err() { return spec.commandLine().getErr(); }
}
