package io.jxception.internal.backend.opencl;

import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;

import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.lwjgl.opencl.CL10.*;

/**
 * One OpenCL device. Devices of all platforms are flattened into one list; {@code index} is the
 * position in that list ("opencl:1" is the second device found, whatever its platform).
 */
record ClDevice(int index, long platform, long device, String platformName, String name, String version, boolean gpu,
                int computeUnits, long globalMemBytes, long maxAllocBytes, long localMemBytes, long maxWorkGroupSize) {

    /** Speed order for "auto": GPUs before CPUs (the CPU through OpenCL still beats the Java reference). */
    int rank() { return gpu ? 200 : 100; }

    String details() {
        return String.format(Locale.ROOT, "%s, %d compute units, %.1f GiB, %s (%s)", gpu ? "GPU" : "CPU", computeUnits,
                globalMemBytes / (1024.0 * 1024 * 1024), version, platformName);
    }

    /** Every device of every platform; throws {@link ClErrors.ClException} when the ICD loader fails. */
    static List<ClDevice> all() {
        List<ClDevice> out = new ArrayList<>();
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer count = stack.mallocInt(1);
            int status = clGetPlatformIDs(null, count);
            if (status == -1001 /* CL_PLATFORM_NOT_FOUND_KHR: the ICD loader found no driver */) return out;
            ClErrors.check(status, "clGetPlatformIDs");
            if (count.get(0) == 0) return out;
            PointerBuffer platforms = stack.mallocPointer(count.get(0));
            ClErrors.check(clGetPlatformIDs(platforms, (IntBuffer) null), "clGetPlatformIDs");
            for (int p = 0; p < platforms.capacity(); p++) {
                long platform = platforms.get(p);
                String platformName = platformString(platform, CL_PLATFORM_NAME);
                IntBuffer nDev = stack.mallocInt(1);
                status = clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, null, nDev);
                if (status == CL_DEVICE_NOT_FOUND || nDev.get(0) == 0) continue;
                ClErrors.check(status, "clGetDeviceIDs");
                PointerBuffer devices = stack.mallocPointer(nDev.get(0));
                ClErrors.check(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, devices, (IntBuffer) null), "clGetDeviceIDs");
                for (int d = 0; d < devices.capacity(); d++) {
                    long dev = devices.get(d);
                    long type = deviceLong(dev, CL_DEVICE_TYPE);
                    out.add(new ClDevice(out.size(), platform, dev, platformName, deviceString(dev, CL_DEVICE_NAME).trim(),
                            deviceString(dev, CL_DEVICE_VERSION).trim(), (type & CL_DEVICE_TYPE_GPU) != 0,
                            deviceInt(dev, CL_DEVICE_MAX_COMPUTE_UNITS), deviceLong(dev, CL_DEVICE_GLOBAL_MEM_SIZE),
                            deviceLong(dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE), deviceLong(dev, CL_DEVICE_LOCAL_MEM_SIZE),
                            devicePointer(dev, CL_DEVICE_MAX_WORK_GROUP_SIZE)));
                }
            }
        }
        return out;
    }

    private static String platformString(long platform, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer size = stack.mallocPointer(1);
            ClErrors.check(clGetPlatformInfo(platform, param, (ByteBuffer) null, size), "clGetPlatformInfo");
            ByteBuffer buf = stack.malloc((int) size.get(0));
            ClErrors.check(clGetPlatformInfo(platform, param, buf, null), "clGetPlatformInfo");
            return decode(buf);
        }
    }

    private static String deviceString(long device, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer size = stack.mallocPointer(1);
            ClErrors.check(clGetDeviceInfo(device, param, (ByteBuffer) null, size), "clGetDeviceInfo");
            ByteBuffer buf = stack.malloc((int) size.get(0));
            ClErrors.check(clGetDeviceInfo(device, param, buf, null), "clGetDeviceInfo");
            return decode(buf);
        }
    }

    private static long deviceLong(long device, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            java.nio.LongBuffer v = stack.mallocLong(1);
            ClErrors.check(clGetDeviceInfo(device, param, v, null), "clGetDeviceInfo");
            return v.get(0);
        }
    }

    private static int deviceInt(long device, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer v = stack.mallocInt(1);
            ClErrors.check(clGetDeviceInfo(device, param, v, null), "clGetDeviceInfo");
            return v.get(0);
        }
    }

    private static long devicePointer(long device, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer v = stack.mallocPointer(1);
            ClErrors.check(clGetDeviceInfo(device, param, v, null), "clGetDeviceInfo");
            return v.get(0);
        }
    }

    /** OpenCL strings are NUL-terminated. */
    static String decode(ByteBuffer buf) {
        byte[] bytes = new byte[buf.remaining()];
        buf.get(bytes);
        int n = bytes.length;
        while (n > 0 && bytes[n - 1] == 0) n--;
        return new String(bytes, 0, n, java.nio.charset.StandardCharsets.UTF_8);
    }
}
