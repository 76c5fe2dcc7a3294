package io.jxception.cli;

import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * SIGTERM and SIGUSR1 while {@code jxception train} runs: SLURM sends one of them before a job's
 * time limit ({@code #SBATCH --signal=USR1@120}), Open MPI's mpirun forwards SIGUSR1 to every rank.
 * The first signal asks the trainer to stop after the current step, with a checkpoint that
 * {@code --resume} continues from (every rank stops after the same step); a second one ends the
 * process at once, without a checkpoint (exit 128 + the signal's number).
 *
 * <p>The CLI installs it after the communicator is open (MPICH installs its own SIGUSR1 handler in
 * MPI_Init) and puts the previous handlers back on close. Handlers run on a JVM thread of their own.
 */
final class StopSignals implements AutoCloseable {
    static final List<String> SIGNALS = List.of("TERM", "USR1");

    private final List<Signal> signals = new ArrayList<>();
    private final List<SignalHandler> previous = new ArrayList<>();
    private volatile int received;

    /**
     * @param stop asked to stop, with the signal's name ("SIGUSR1")
     * @param say  a line for the log
     */
    StopSignals(Consumer<String> stop, Consumer<String> say) {
        for (String name : SIGNALS) {
            Signal signal = new Signal(name);
            SignalHandler handler = s -> {
                if (received++ == 0) {
                    say.accept("received SIG" + s.getName() + ": stopping after the current step with a checkpoint (--resume continues); send it again to exit at once");
                    stop.accept("SIG" + s.getName());
                } else {
                    say.accept("received SIG" + s.getName() + " again: exiting now, without a checkpoint");
                    Runtime.getRuntime().halt(128 + s.getNumber());
                }
            };
            try {
                previous.add(Signal.handle(signal, handler));
                signals.add(signal);
            } catch (IllegalArgumentException e) {
                // the JVM reserves this signal (e.g. -Xrs): train on without it
                say.accept("note: cannot handle SIG" + name + " (" + e.getMessage() + "): it will end the run without a checkpoint");
            }
        }
    }

    @Override
    public void close() {
        for (int i = 0; i < signals.size(); i++) Signal.handle(signals.get(i), previous.get(i));
    }
}
