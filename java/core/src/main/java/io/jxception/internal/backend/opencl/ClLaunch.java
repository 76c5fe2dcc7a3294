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
    private final LaunchProfile profile; // null: not profiling
    private final long groupLimit;       // the kernel's CL_KERNEL_WORK_GROUP_SIZE on this device
    private int index;

    ClLaunch(long queue, long kernel, String name, LaunchProfile profile, long groupLimit) {
        this.queue = queue;
        this.kernel = kernel;
        this.name = name;
        this.profile = profile;
        this.groupLimit = groupLimit;
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

    /**
     * The work-group shape of a launch that does not need a particular one: {@code min(64, the next power
     * of two >= global[0])} work-items along dimension 0 and, for 2-D and 3-D launches, 64 / that many
     * along dimension 1 (groups of 64 where dimension 0 is short: pocl pays per group), 1 along
     * dimension 2. The shape depends on the launch's first dimension only, which is channels or weights
     * (the batch lies in the other dimensions, or makes a 1-D launch far longer than 64): leaving it to
     * the driver made pocl pick a shape from the whole global size, so every new batch size compiled
     * every kernel again (5 to 8 s per batch size at 71x71 without pocl's disk cache), which a dynamic
     * batcher or a last partial batch pays at run time. Kernels guard their bounds in dimensions 0 and
     * 1, so the padded work-items do nothing. A kernel whose device limit is below 64 work-items gets
     * groups of that limit's largest power of two.
     */
    static long[] defaultLocal(long[] global, long groupLimit) {
        long group = Math.min(DEFAULT_GROUP, Long.highestOneBit(Math.max(1, groupLimit)));
        long[] local = new long[global.length];
        java.util.Arrays.fill(local, 1);
        local[0] = global[0] <= 1 ? 1 : Math.min(group, Long.highestOneBit(global[0] - 1) << 1);
        if (global.length > 1) local[1] = group / local[0];
        return local;
    }

    /** Work-items in a group of {@link #defaultLocal}: two warps of an NVIDIA GPU, a wavefront of AMD's. */
    static final long DEFAULT_GROUP = 64;

    /** Enqueues over {@code global} work-items in groups of {@code local} (null: {@link #defaultLocal}). */
    void run(long[] global, long[] local) {
        if (local == null) local = defaultLocal(global, groupLimit);
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
            long start = profile != null ? System.nanoTime() : 0;
            ClErrors.check(clEnqueueNDRangeKernel(queue, kernel, dims, null, g, l, null, null),
                    "clEnqueueNDRangeKernel(" + name + ", global " + java.util.Arrays.toString(global)
                            + (local == null ? "" : ", local " + java.util.Arrays.toString(local)) + ")");
            if (profile != null) {
                ClErrors.check(clFinish(queue), "clFinish");
                profile.add(name, (System.nanoTime() - start) / 1e6);
            }
        }
    }
}
