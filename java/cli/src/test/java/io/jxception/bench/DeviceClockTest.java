package io.jxception.bench;

import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.backend.DeviceEvents;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class DeviceClockTest {
    /** A KernelBackend that only records which of its methods were called (every one returns null). */
    private static KernelBackend recording(List<String> calls, Class<?>... more) {
        Class<?>[] types = new Class<?>[more.length + 1];
        types[0] = KernelBackend.class;
        System.arraycopy(more, 0, types, 1, more.length);
        return (KernelBackend) Proxy.newProxyInstance(DeviceClockTest.class.getClassLoader(), types, (proxy, m, args) -> {
            calls.add(m.getName());
            if (m.getName().equals("elapsedSeconds")) {
                ((Runnable) args[0]).run();
                return 0.25;
            }
            return m.getName().equals("eventKind") ? "test events" : null;
        });
    }

    @Test
    void hostClockWaitsForEarlierWorkThenForTheTimedWork() {
        List<String> calls = new ArrayList<>();
        DeviceClock clock = DeviceClock.of(recording(calls));
        assertEquals("host wall clock", clock.kind());
        double s = clock.seconds(() -> calls.add("launch"));
        assertEquals(List.of("synchronize", "launch", "synchronize"), calls);
        assertTrue(s >= 0 && s < 1, "seconds " + s);
    }

    @Test
    void backendsWithDeviceEventsAreTimedByThem() {
        List<String> calls = new ArrayList<>();
        DeviceClock clock = DeviceClock.of(recording(calls, DeviceEvents.class));
        assertEquals("test events", clock.kind());
        assertEquals(0.25, clock.seconds(() -> calls.add("launch")));
        assertEquals(List.of("eventKind", "elapsedSeconds", "launch"), calls);
    }
}
