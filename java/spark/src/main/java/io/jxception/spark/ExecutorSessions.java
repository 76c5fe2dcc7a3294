package io.jxception.spark;

import io.jxception.backend.Backend;
import io.jxception.backend.Backends;
import io.jxception.backend.Precision;
import io.jxception.exec.InferenceSession;
import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Tensor;
import io.jxception.weights.WeightsFiles;
import io.jxception.weights.XceptionWeights;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The executor JVM's open devices: per backend name and precision one {@link Backend}, and on it one
 * {@link InferenceSession} per model (weights, input size, output, batch size), created by the first
 * task that needs them and reused by every later task of any job in this JVM. Weights files are read
 * once per JVM (per file, input size and output kind) and kept on the heap, so a second device or a
 * session reopened after a failure does not read them again.
 *
 * <p>A backend and its sessions are used by one thread at a time ({@link Backend} is not
 * thread-safe): a task holds the device's lock for the forward pass only, so the task threads of an
 * executor decode their next batches while another task's batch runs on the device. After any
 * failure on a device its sessions and backend are closed and dropped; the next task opens them
 * anew (a device that recovered is used again, one that did not fails that task too).
 *
 * <p>Everything is closed by a JVM shutdown hook, registered when the first device is opened: an
 * executor has no other end-of-life callback that runs on every cluster manager, and the device
 * context should be released before the process exits. The hook waits at most
 * {@link #SHUTDOWN_WAIT_SECONDS} for a forward pass still running, and leaves that device to the
 * operating system if it does not finish. This is the only JVM-wide state jxception-spark keeps.
 */
final class ExecutorSessions {
    private static final System.Logger LOG = System.getLogger(ExecutorSessions.class.getName());
    static final long SHUTDOWN_WAIT_SECONDS = 5;

    /** One device: the backend name after {@link DeviceChoice} and the storage precision. */
    record DeviceKey(String backend, Precision precision) {}

    /** One model on a device: its weights, square input size, output (features or probabilities) and largest batch. */
    record ModelKey(WeightsLocation weights, int inputSize, boolean features, int maxBatch) {
        WeightsKey weightsKey() { return new WeightsKey(weights, inputSize, features); }
    }

    /** Weights as loaded for one graph: the file, the input size and whether the classifier is dropped. */
    record WeightsKey(WeightsLocation weights, int inputSize, boolean features) {}

    /** How often this JVM opened a backend, created a session and read a weights file (for tests and logs). */
    record Stats(int backendsOpened, int sessionsCreated, int weightsRead) {}

    private static final Map<DeviceKey, Device> DEVICES = new ConcurrentHashMap<>();
    private static final Map<WeightsKey, XceptionWeights> WEIGHTS = new ConcurrentHashMap<>();
    private static final Object WEIGHTS_LOCK = new Object();
    private static final AtomicBoolean HOOK_REGISTERED = new AtomicBoolean();
    private static final AtomicInteger BACKENDS_OPENED = new AtomicInteger();
    private static final AtomicInteger SESSIONS_CREATED = new AtomicInteger();
    private static final AtomicInteger WEIGHTS_READ = new AtomicInteger();

    private ExecutorSessions() {}

    /**
     * Runs one forward pass of {@code batch} (n, S, S, 3), preprocessed, on the device's session for
     * {@code model}, opening the backend, reading the weights and creating the session first where
     * this JVM has not yet. Blocks while another thread uses the device.
     *
     * @param where the task, for messages ("executor 1 (host), stage 3 partition 7")
     * @return (n, classes) probabilities, or (n, C) pooled features
     * @throws DeviceFailureException if the backend cannot be opened or the device fails
     * @throws IllegalStateException  if the weights file is missing or unreadable, or does not fit the output asked for
     */
    static Tensor run(DeviceKey device, ModelKey model, Tensor batch, String where) {
        Device d = DEVICES.computeIfAbsent(device, Device::new);
        if (HOOK_REGISTERED.compareAndSet(false, true)) {
            Runtime.getRuntime().addShutdownHook(new Thread(ExecutorSessions::closeAtShutdown, "jxception-spark-close-sessions"));
        }
        d.lock.lock();
        try {
            InferenceSession session = d.session(model, where);
            try {
                return session.run(batch);
            } catch (RuntimeException e) {
                d.closeAll();
                throw new DeviceFailureException("jxception-spark: forward pass of " + batch.shape().dim(0) + " images on backend '" + device.backend()
                        + "' failed on " + where + ": " + e.getMessage() + "; the task fails so that Spark runs it again", e);
            }
        } finally {
            d.lock.unlock();
        }
    }

    /** Counters since this JVM started. */
    static Stats stats() {
        return new Stats(BACKENDS_OPENED.get(), SESSIONS_CREATED.get(), WEIGHTS_READ.get());
    }

    /** Closes every session and backend and forgets the weights read (tests; the shutdown hook closes them in production). */
    static void closeAll() {
        for (Device d : DEVICES.values()) {
            d.lock.lock();
            try {
                d.closeAll();
            } finally {
                d.lock.unlock();
            }
        }
        WEIGHTS.clear();
    }

    private static void closeAtShutdown() {
        for (Device d : DEVICES.values()) {
            boolean locked = false;
            try {
                locked = d.lock.tryLock(SHUTDOWN_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (locked) {
                try {
                    d.closeAll();
                } finally {
                    d.lock.unlock();
                }
            } else {
                LOG.log(System.Logger.Level.WARNING, "jxception-spark: backend {0} still busy after {1} s at JVM shutdown; left open",
                        d.key.backend(), SHUTDOWN_WAIT_SECONDS);
            }
        }
    }

    /**
     * The weights for {@code key}, read from the file the first time (one reader at a time, so two
     * tasks starting together read it once).
     */
    private static XceptionWeights weights(WeightsKey key, String where) {
        XceptionWeights cached = WEIGHTS.get(key);
        if (cached != null) return cached;
        synchronized (WEIGHTS_LOCK) {
            cached = WEIGHTS.get(key);
            if (cached != null) return cached;
            Path file;
            try {
                file = key.weights().resolve();
            } catch (RuntimeException e) {
                throw new IllegalStateException("jxception-spark: on " + where + ": " + e.getMessage(), e);
            }
            XceptionWeights loaded = read(file, key.inputSize(), key.features(), where);
            WEIGHTS_READ.incrementAndGet();
            WEIGHTS.put(key, loaded);
            return loaded;
        }
    }

    /** Reads {@code file} for S×S inputs: with the classifier (which it must have) or ending in average pooling. */
    private static XceptionWeights read(Path file, int size, boolean features, String where) {
        try {
            XceptionConfig config = WeightsFiles.inferConfig(file, size, size);
            if (features) {
                config = config.withoutTop(Pooling.AVG); // WeightsFiles.load leaves a stored classifier out
            } else if (!config.includeTop()) {
                throw new IllegalStateException("jxception-spark: weights file " + file + " has no classifier (saved with include_top=False):"
                        + " use ImageInference.features for pooled features");
            }
            return WeightsFiles.load(file, XceptionGraph.build(config));
        } catch (IOException | IllegalArgumentException e) {
            String m = String.valueOf(e.getMessage());
            throw new IllegalStateException("jxception-spark: cannot read weights on " + where + ": "
                    + (m.contains(file.getFileName().toString()) ? m : file + ": " + m), e);
        }
    }

    /** One backend and its sessions; every field is used under {@link #lock}. */
    private static final class Device {
        final DeviceKey key;
        final ReentrantLock lock = new ReentrantLock();
        Backend backend;                                             // null until opened, and after a failure
        final Map<ModelKey, InferenceSession> sessions = new LinkedHashMap<>();

        Device(DeviceKey key) { this.key = key; }

        InferenceSession session(ModelKey model, String where) {
            InferenceSession s = sessions.get(model);
            if (s != null) return s;
            XceptionWeights weights = weights(model.weightsKey(), where);
            if (backend == null) {
                try {
                    backend = Backends.open(key.backend(), key.precision());
                } catch (RuntimeException e) {
                    throw new DeviceFailureException("jxception-spark: cannot open backend '" + key.backend() + "' ("
                            + key.precision().name().toLowerCase(java.util.Locale.ROOT) + ") on " + where + ": " + e.getMessage()
                            + "; the task fails so that Spark runs it again (on another executor where spark.excludeOnFailure.enabled is set)", e);
                }
                BACKENDS_OPENED.incrementAndGet();
                LOG.log(System.Logger.Level.DEBUG, "jxception-spark: opened {0} ({1}) on {2}", backend.name(), backend.description(), where);
            }
            try {
                s = new InferenceSession(backend, weights, model.maxBatch());
            } catch (RuntimeException e) {
                closeAll();
                throw new DeviceFailureException("jxception-spark: cannot create a session for batches of " + model.maxBatch() + " on backend '"
                        + key.backend() + "' on " + where + ": " + e.getMessage() + "; the task fails so that Spark runs it again", e);
            }
            SESSIONS_CREATED.incrementAndGet();
            sessions.put(model, s);
            return s;
        }

        /** Closes the sessions, then the backend (reverse order of creation); keeps the first failure's message in the log only. */
        void closeAll() {
            List<InferenceSession> open = new ArrayList<>(sessions.values());
            sessions.clear();
            for (int i = open.size() - 1; i >= 0; i--) {
                try {
                    open.get(i).close();
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "jxception-spark: closing a session on " + key.backend() + " failed", e);
                }
            }
            if (backend != null) {
                try {
                    backend.close();
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "jxception-spark: closing backend " + key.backend() + " failed", e);
                }
                backend = null;
            }
        }
    }
}
