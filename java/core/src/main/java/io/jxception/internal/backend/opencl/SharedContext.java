package io.jxception.internal.backend.opencl;

import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;

import java.nio.IntBuffer;
import java.util.HashMap;
import java.util.Map;

import static org.lwjgl.opencl.CL10.*;

/**
 * One cl_context per device, shared by every open backend on that device, so each program is built
 * once per process rather than once per backend (a cached pocl build still costs ~50 ms, and a
 * network needs ~20). Reference-counted: the last backend to close releases the programs and the
 * context. Each backend keeps its own queue, kernel objects and buffers.
 */
final class SharedContext {
    private static final Map<Long, SharedContext> OPEN = new HashMap<>(); // by cl_device_id

    final ClDevice device;
    final long context;
    final ClPrograms programs;
    private int users;

    private SharedContext(ClDevice device) {
        this.device = device;
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1);
            PointerBuffer props = stack.mallocPointer(3).put(CL_CONTEXT_PLATFORM).put(device.platform()).put(0).flip();
            context = clCreateContext(props, device.device(), null, 0, err);
            ClErrors.check(err.get(0), "clCreateContext(" + device.name() + ")");
            ClObjects.created();
        }
        CompilerSignalHandlers.settle(context, device.device());
        programs = new ClPrograms(context, device);
    }

    /** The device's context, created if no backend holds it; pair with {@link #release()}. */
    static SharedContext acquire(ClDevice device) {
        synchronized (OPEN) {
            SharedContext c = OPEN.get(device.device());
            if (c == null) {
                c = new SharedContext(device);
                OPEN.put(device.device(), c);
            }
            c.users++;
            return c;
        }
    }

    void release() {
        synchronized (OPEN) {
            if (users <= 0) throw new IllegalStateException("OpenCL context of " + device.name() + " released more often than acquired");
            if (--users > 0) return;
            OPEN.remove(device.device());
            programs.close();
            clReleaseContext(context);
            ClObjects.released();
        }
    }
}
