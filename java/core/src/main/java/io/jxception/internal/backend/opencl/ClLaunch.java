package io.jxception.internal.backend.opencl;

import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;

import static org.lwjgl.opencl.CL10.*;

/**
 * Binds a kernel's arguments in order and enqueues it: {@code launch(k).arg(x).arg(n).run(global, local)}.
 * Global sizes are rounded up to multiples of the local size; kernels guard their own bounds.
 */
final class ClLaunch {
    private final long queue;
    private final long kernel;
    private final String name;
    private int index;

    ClLaunch(long queue, long kernel, String name) {
        this.queue = queue;
        this.kernel = kernel;
        this.name = name;
    }

    ClLaunch arg(ClBuffer b) {
        ClErrors.check(clSetKernelArg1p(kernel, index, b.mem()), "clSetKernelArg(" + name + ", " + index + ", buffer)");
        index++;
        return this;
    }

    ClLaunch arg(int v) {
        ClErrors.check(clSetKernelArg1i(kernel, index, v), "clSetKernelArg(" + name + ", " + index + ", int)");
        index++;
        return this;
    }

    ClLaunch arg(long v) {
        ClErrors.check(clSetKernelArg1l(kernel, index, v), "clSetKernelArg(" + name + ", " + index + ", long)");
        index++;
        return this;
    }

    /** A buffer, or a NULL pointer for an optional buffer the kernel was compiled not to read. */
    ClLaunch argOrNull(ClBuffer b) {
        if (b != null) return arg(b);
        ClErrors.check(clSetKernelArg1p(kernel, index, 0L), "clSetKernelArg(" + name + ", " + index + ", NULL)");
        index++;
        return this;
    }

    ClLaunch arg(float v) {
        ClErrors.check(clSetKernelArg1f(kernel, index, v), "clSetKernelArg(" + name + ", " + index + ", float)");
        index++;
        return this;
    }

    /** Enqueues over {@code global} work-items in groups of {@code local} (null: the driver chooses). */
    void run(long[] global, long[] local) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            int dims = global.length;
            PointerBuffer g = stack.mallocPointer(dims);
            PointerBuffer l = local == null ? null : stack.mallocPointer(dims);
            for (int d = 0; d < dims; d++) {
                long gs = global[d];
                if (local != null) {
                    long ls = local[d];
                    gs = (gs + ls - 1) / ls * ls;
                    l.put(d, ls);
                }
                g.put(d, Math.max(gs, 1));
            }
            long start = LaunchProfile.ENABLED ? System.nanoTime() : 0;
            ClErrors.check(clEnqueueNDRangeKernel(queue, kernel, dims, null, g, l, null, null),
                    "clEnqueueNDRangeKernel(" + name + ", global " + java.util.Arrays.toString(global)
                            + (local == null ? "" : ", local " + java.util.Arrays.toString(local)) + ")");
            if (LaunchProfile.ENABLED) {
                ClErrors.check(clFinish(queue), "clFinish");
                LaunchProfile.add(name, (System.nanoTime() - start) / 1e6);
            }
        }
    }
}
