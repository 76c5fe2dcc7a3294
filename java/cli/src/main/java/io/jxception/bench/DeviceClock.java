package io.jxception.bench;

import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.backend.DeviceEvents;

/**
 * Times work enqueued on a backend. {@link #of} picks the device's own events where the backend
 * offers them ({@link DeviceEvents}), else the host wall clock between two
 * {@link KernelBackend#synchronize} calls, which also counts launch latency and the host's wake-up.
 */
public interface DeviceClock {
    /** Runs {@code enqueue} and returns the seconds the device took for what it enqueued. */
    double seconds(Runnable enqueue);

    /** What measures: "host wall clock" or the backend's event kind. */
    String kind();

    static DeviceClock of(KernelBackend backend) {
        return backend instanceof DeviceEvents events ? new Events(events) : new Host(backend);
    }

    /** Host wall clock: synchronize, start, enqueue, synchronize, stop. */
    record Host(KernelBackend backend) implements DeviceClock {
        @Override
        public double seconds(Runnable enqueue) {
            backend.synchronize();
            long t0 = System.nanoTime();
            enqueue.run();
            backend.synchronize();
            return (System.nanoTime() - t0) * 1e-9;
        }

        @Override
        public String kind() { return "host wall clock"; }
    }

    record Events(DeviceEvents events) implements DeviceClock {
        @Override
        public double seconds(Runnable enqueue) { return events.elapsedSeconds(enqueue); }

        @Override
        public String kind() { return events.eventKind(); }
    }
}
