package io.jxception.cli;

import io.jxception.distributed.Communicator;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * How a command that is one rank of a job of several processes fails: it reports its error with its
 * rank and ends the job (MPI_Abort), because the other ranks may wait in a collective this rank will
 * never join. Alone, the error goes the usual way ({@link Failure}).
 */
final class JobFailure {
    private JobFailure() {}

    /** "[rank r/n] " in a job of several processes, "" alone. */
    static String prefix(Communicator comm) { return prefix(comm.rank(), comm.size()); }

    static String prefix(int rank, int size) { return size > 1 ? "[rank " + rank + "/" + size + "] " : ""; }

    /** Runs {@code body}; when it fails on one rank of several, prints the error with the rank and aborts the job with exit code 1. */
    static <T> T abortingJob(Communicator comm, PrintWriter out, PrintWriter err, Callable<T> body) throws Exception {
        try {
            return body.call();
        } catch (Exception | OutOfMemoryError e) {
            if (comm.size() == 1) throw e;
            err.println(prefix(comm) + "jxception: error: " + Failure.message(e));
            err.flush();
            out.flush();
            comm.abortJob(Failure.RUNTIME);
            throw e;
        }
    }
}
