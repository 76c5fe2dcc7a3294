package io.jxception.internal.distributed;

import com.sun.jna.Memory;
import io.jxception.distributed.CommunicatorException;
import io.jxception.distributed.ThreadLevel;
import io.jxception.internal.nativeio.SignalHandlers;

import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * MPI's process-wide state, the one piece of global state in jxception, because MPI imposes it:
 * {@code MPI_Init_thread} runs at most once per process and {@code MPI_Finalize} once, after which
 * MPI cannot be initialised again. This class counts the communicators that use MPI: the first
 * {@link #acquire} initialises it, the {@link #release} of the last finalises it (when this class
 * initialised it; an application that initialised MPI itself before opening a communicator also
 * finalises it itself). It also holds what the thread level granted requires of every caller
 * ({@link #checkThread}, {@link #lockFor}).
 *
 * <p>Thread-safety: acquire and release are synchronised on a class-wide lock.
 */
public final class MpiProcess {
    private static final System.Logger LOG = System.getLogger(MpiProcess.class.getName());
    private static final Object GUARD = new Object();
    /** The initialised process, null before the first acquire and after the last release. */
    private static MpiProcess current;
    /** Set once this class has finalised MPI: it cannot be initialised again. */
    private static String finalisedBy;
    /** The signals whose handlers MPI_Init replaced and {@link SignalHandlers} put back. */
    private static List<String> restoredSignals = List.of();

    private final MpiLibrary library;
    private final ThreadLevel granted;
    /** The thread that called MPI_Init_thread, or null when the application initialised MPI (then MPI_Is_thread_main decides). */
    private final Thread initThread;
    private final boolean ownsInit;
    /** Serialises the MPI calls of every communicator under SERIALIZED (and FUNNELED, SINGLE). */
    private final ReentrantLock processLock = new ReentrantLock();
    private int users;

    private MpiProcess(MpiLibrary library, ThreadLevel granted, Thread initThread, boolean ownsInit) {
        this.library = library;
        this.granted = granted;
        this.initThread = initThread;
        this.ownsInit = ownsInit;
    }

    /**
     * Initialises MPI in this process, asking for {@code requested}, unless it already is; counts
     * one more user either way.
     *
     * @throws CommunicatorException when MPI was finalised in this process already, or a different
     *                               library was initialised before
     */
    public static MpiProcess acquire(MpiLibrary library, ThreadLevel requested) {
        synchronized (GUARD) {
            if (current != null) {
                if (!current.library.file().equals(library.file())) {
                    throw new CommunicatorException("MPI is already initialised in this process with " + current.library.file()
                            + "; a communicator cannot use a second library, " + library.file());
                }
                current.users++;
                return current;
            }
            if (finalisedBy != null || library.finalized()) {
                throw new CommunicatorException("MPI was finalised in this process" + (finalisedBy != null ? " when its last communicator closed (" + finalisedBy + ")" : "")
                        + " and MPI cannot be initialised twice in one process: keep one communicator open for as long as the process needs MPI");
            }
            MpiProcess p;
            try {
                p = initialise(library, requested);
            } finally {
                restoredSignals = library.restoreJvmSignalHandlers();
            }
            LOG.log(System.Logger.Level.DEBUG, () -> String.format("MPI %s: %s (%s), thread level %s requested, %s granted%s",
                    p.ownsInit ? "initialised" : "already initialised by the application", library.shortVersion(), library.file(), requested, p.granted,
                    restoredSignals.isEmpty() ? "" : "; loading or initialising MPI had replaced the handlers of " + String.join(", ", restoredSignals) + ": the JVM's are back"));
            p.users = 1;
            current = p;
            return p;
        }
    }

    /** MPI_Init_thread, unless the application initialised MPI already (then its thread level is used). */
    private static MpiProcess initialise(MpiLibrary library, ThreadLevel requested) {
        try (Memory provided = new Memory(Integer.BYTES)) {
            if (library.initialized()) {
                library.call("MPI_Query_thread", provided);
                return new MpiProcess(library, ThreadLevel.ofMpiValue(provided.getInt(0)), null, false);
            }
            library.call("MPI_Init_thread", null, null, requested.mpiValue(), provided);
            return new MpiProcess(library, ThreadLevel.ofMpiValue(provided.getInt(0)), Thread.currentThread(), true);
        }
    }

    /** One user fewer; the last one finalises MPI when {@link #acquire} initialised it. */
    public void release() {
        synchronized (GUARD) {
            if (users <= 0) throw new IllegalStateException("MPI released more often than acquired");
            if (--users > 0) return;
            current = null;
            if (!ownsInit) return;
            checkThread();
            finalisedBy = "thread " + Thread.currentThread().getName();
            library.call("MPI_Finalize");
        }
    }

    public MpiLibrary library() { return library; }

    /**
     * The signals whose handlers MPI_Init had replaced and that were restored to what the process
     * (the JVM) had installed before ({@link SignalHandlers}); empty when MPI_Init left them alone.
     */
    public static List<String> restoredSignals() {
        synchronized (GUARD) {
            return restoredSignals;
        }
    }

    /** The thread level MPI granted. */
    public ThreadLevel granted() { return granted; }

    /**
     * The lock a communicator takes around each of its MPI calls: the process-wide one unless MPI
     * granted MULTIPLE, where each communicator serialises only its own calls ({@code own}).
     */
    ReentrantLock lockFor(ReentrantLock own) {
        return granted == ThreadLevel.MULTIPLE ? own : processLock;
    }

    /**
     * Under FUNNELED or SINGLE, throws unless the calling thread is the one that initialised MPI
     * (the only one allowed to call it).
     */
    void checkThread() {
        if (granted.allowsAnyThread()) return;
        boolean main;
        if (initThread != null) {
            main = Thread.currentThread() == initThread;
        } else {
            try (Memory flag = new Memory(Integer.BYTES)) {
                library.call("MPI_Is_thread_main", flag);
                main = flag.getInt(0) != 0;
            }
        }
        if (!main) {
            throw new IllegalStateException("MPI granted thread level " + granted + ": only the thread that initialised MPI"
                    + (initThread != null ? " (" + initThread.getName() + ")" : "") + " may call it, not " + Thread.currentThread().getName()
                    + "; make every call from that thread, or ask for ThreadLevel.SERIALIZED when opening the communicator");
        }
    }
}
