package io.jxception.spark;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class DeviceChoiceTest {
    private static final String[] NONE = new String[0];

    @Test
    void aGpuThatSparkAssignedToTheTaskBecomesItsCudaDeviceForAutoAndCudaNames() {
        assertEquals("cuda:3", DeviceChoice.backendFor("auto", new String[]{"3"}));
        assertEquals("cuda:3", DeviceChoice.backendFor("cuda", new String[]{"3"}));
        assertEquals("cuda:3", DeviceChoice.backendFor("cuda:local", new String[]{"3"}));
        assertEquals("cuda:1", DeviceChoice.backendFor("CUDA:0", new String[]{"1", "2"}), "the first of several addresses");
    }

    @Test
    void anExplicitCpuOrOpenclBackendIsKeptEvenWithASparkGpu() {
        assertEquals("cpu", DeviceChoice.backendFor("cpu", new String[]{"0"}));
        assertEquals("opencl:1", DeviceChoice.backendFor("opencl:1", new String[]{"0"}));
    }

    @Test
    void withoutSparkGpusTheConfiguredNameIsUsed() {
        assertEquals("auto", DeviceChoice.backendFor(" Auto ", NONE));
        assertEquals("cuda:local", DeviceChoice.backendFor("cuda:local", NONE));
        assertEquals("opencl", DeviceChoice.backendFor("opencl", NONE));
    }

    @Test
    void unknownNamesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> DeviceChoice.backendFor("gpu", NONE));
        assertThrows(IllegalArgumentException.class, () -> DeviceChoice.backendFor("cuda:x", NONE));
    }
}
