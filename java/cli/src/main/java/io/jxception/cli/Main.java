package io.jxception.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code jxception}: Xception inference and benchmarks from the command line. Each subcommand is
 * its own class; errors are reported by {@link Failure} as one line, "jxception: error: ...",
 * with exit code 2 for a wrong command line and 1 for everything that fails at run time.
 */
@Command(name = "jxception", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Xception (Keras) inference on CUDA, OpenCL or the Java reference backend.",
        subcommands = {InfoCommand.class, InferCommand.class, ClassifyCommand.class, BenchCommand.class, TrainCommand.class, MergeCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Print stack traces with errors.")
    boolean verbose;

    @Spec CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: choose one of info, infer, classify, bench, train, merge");
    }

    /** The command line with jxception's error format for usage errors; {@code main} and tests use it. */
    public static CommandLine commandLine() {
        CommandLine cmd = new CommandLine(new Main());
        cmd.setParameterExceptionHandler(Failure::usage);
        return cmd;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** Version from the jar manifest (Implementation-Version), "dev" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[]{"jxception " + (v == null ? "dev" : v) + " (Java " + Runtime.version() + ")"};
        }
    }
}
