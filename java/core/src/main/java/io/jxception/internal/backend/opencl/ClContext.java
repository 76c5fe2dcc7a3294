package io.jxception.internal.backend.opencl;

import io.jxception.backend.DeviceMemoryException;
import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

import static org.lwjgl.opencl.CL10.*;

/**
 * One backend's share of an OpenCL device: an in-order queue, the kernel objects it launches and the
 * buffers it allocated, on the device's {@link SharedContext} (whose programs all backends share).
 * {@link #close()} releases in reverse order of creation: buffers, kernels, queue, then its hold on
 * the shared context (the last holder releases programs and context).
 */
final class ClContext implements AutoCloseable {
    final ClDevice device;
    private final OpenClBackend owner;
    private final SharedContext shared;
    private final long context;
    private long queue;
    /** The programs of this device, shared with other backends. */
    final ClPrograms programs;
    private final Map<String, Long> kernels = new HashMap<>();
    private final Map<Long, Long> kernelGroupLimits = new HashMap<>(); // cl_kernel -> CL_KERNEL_WORK_GROUP_SIZE
    private final List<Long> kernelOrder = new ArrayList<>();
    private final Set<ClBuffer> buffers = Collections.newSetFromMap(new IdentityHashMap<>()); // every live buffer of this backend (their shapes are the callers')
    private long allocatedBytes;
    /** Per-kernel timing of this backend's launches, or null (LaunchProfile.PROPERTY unset at open). */
    final LaunchProfile profile = LaunchProfile.ifRequested();

    ClContext(ClDevice device, OpenClBackend owner) {
        this.device = device;
        this.owner = owner;
        this.shared = SharedContext.acquire(device);
        this.context = shared.context;
        this.programs = shared.programs;
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1);
            queue = clCreateCommandQueue(context, device.device(), 0, err);
            if (err.get(0) != CL_SUCCESS) {
                shared.release();
                ClErrors.check(err.get(0), "clCreateCommandQueue(" + device.name() + ")");
            }
            ClObjects.created();
        }
    }

    /** Kernel {@code kernelName} of packaged source {@code file} built with {@code options}; created once per backend. */
    long kernel(String file, String kernelName, String options) {
        return kernelOf(file + "|" + options + "|" + kernelName, () -> programs.program(file, options), kernelName);
    }

    /** As {@link #kernel} for source text not packaged in the jar (the opencl/dev variants). */
    long kernelFromSource(String sourceKey, Supplier<String> source, String kernelName, String options) {
        return kernelOf("src:" + sourceKey + "|" + options + "|" + kernelName, () -> programs.programFromSource(sourceKey, source, options), kernelName);
    }

    /**
     * The largest work-group this kernel can run with on this device (CL_KERNEL_WORK_GROUP_SIZE: on GPUs
     * registers and local memory can make it smaller than the device's maximum).
     */
    long maxWorkGroupSize(long kernel) {
        return kernelGroupLimits.computeIfAbsent(kernel, k -> {
            try (MemoryStack stack = MemoryStack.stackPush()) {
                PointerBuffer size = stack.mallocPointer(1);
                ClErrors.check(clGetKernelWorkGroupInfo(k, device.device(), CL_KERNEL_WORK_GROUP_SIZE, size, null), "clGetKernelWorkGroupInfo");
                return Math.min(size.get(0), device.maxWorkGroupSize());
            }
        });
    }

    private long kernelOf(String key, Supplier<Long> program, String kernelName) {
        Long k = kernels.get(key);
        if (k != null) return k;
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1);
            long kernel = clCreateKernel(program.get(), kernelName, err);
            ClErrors.check(err.get(0), "clCreateKernel(" + kernelName + ")");
            ClObjects.created();
            kernels.put(key, kernel);
            kernelOrder.add(kernel);
            return kernel;
        }
    }

    ClLaunch launch(long kernel, String name) { return new ClLaunch(queue, kernel, name, profile, maxWorkGroupSize(kernel)); }

    /** Bytes currently allocated by this context's buffers. */
    long allocatedBytes() { return allocatedBytes; }

    ClBuffer allocate(long elements) {
        if (elements < 1) throw new IllegalArgumentException("buffer of " + elements + " elements: need at least 1");
        long bytes = Math.multiplyExact(elements, (long) Float.BYTES);
        if (bytes > device.maxAllocBytes()) throw outOfMemory(bytes, "exceeds the device's largest single allocation (CL_DEVICE_MAX_MEM_ALLOC_SIZE)");
        if (allocatedBytes + bytes > device.globalMemBytes()) throw outOfMemory(bytes, "does not fit beside the " + allocatedBytes + " bytes already allocated");
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1);
            long mem = clCreateBuffer(context, CL_MEM_READ_WRITE, bytes, err);
            int status = err.get(0);
            if (status == CL_MEM_OBJECT_ALLOCATION_FAILURE || status == CL_OUT_OF_RESOURCES || status == CL_OUT_OF_HOST_MEMORY
                    || status == CL_INVALID_BUFFER_SIZE) {
                throw outOfMemory(bytes, ClErrors.name(status));
            }
            ClErrors.check(status, "clCreateBuffer(" + bytes + " bytes)");
            ClObjects.created();
            ClBuffer b = new ClBuffer(owner, mem, elements);
            buffers.add(b);
            allocatedBytes += bytes;
            return b;
        }
    }

    private DeviceMemoryException outOfMemory(long bytes, String why) {
        return new DeviceMemoryException(String.format(Locale.ROOT,
                "OpenCL device %s: cannot allocate %d bytes (%s); device memory %d bytes (CL_DEVICE_GLOBAL_MEM_SIZE), "
                        + "largest allocation %d bytes (CL_DEVICE_MAX_MEM_ALLOC_SIZE), %d bytes in use by this backend, %d available to it",
                device.name(), bytes, why, device.globalMemBytes(), device.maxAllocBytes(), allocatedBytes,
                Math.max(0, device.globalMemBytes() - allocatedBytes)));
    }

    void free(ClBuffer b) {
        if (!b.isOpen()) return;
        if (!buffers.remove(b)) throw new IllegalStateException("buffer " + b + " does not belong to this OpenCL context");
        long mem = b.detach();
        allocatedBytes -= b.bytes();
        ClErrors.check(clReleaseMemObject(mem), "clReleaseMemObject");
        ClObjects.released();
    }

    void upload(float[] src, int srcOffset, ClBuffer dst, long dstOffset, int count) {
        checkRange(dst, dstOffset, count);
        if (srcOffset < 0 || count < 0 || srcOffset + count > src.length) throw new IndexOutOfBoundsException("upload of " + count + " floats from offset " + srcOffset + " of a " + src.length + "-float array");
        if (count == 0) return;
        FloatBuffer staging = MemoryUtil.memAllocFloat(count);
        try {
            staging.put(src, srcOffset, count).flip();
            ClErrors.check(clEnqueueWriteBuffer(queue, dst.mem(), true, dstOffset * Float.BYTES, staging, null, null), "clEnqueueWriteBuffer");
        } finally {
            MemoryUtil.memFree(staging);
        }
    }

    /** Bytes src[srcOffset ..+count) to the buffer's bytes from {@code dstByteOffset}; the buffer must have at least dstByteOffset + count elements. */
    void uploadBytes(byte[] src, int srcOffset, ClBuffer dst, long dstByteOffset, int count) {
        checkRange(dst, dstByteOffset, count);
        if (srcOffset < 0 || count < 0 || srcOffset + count > src.length) throw new IndexOutOfBoundsException("upload of " + count + " bytes from offset " + srcOffset + " of a " + src.length + "-byte array");
        if (count == 0) return;
        java.nio.ByteBuffer staging = MemoryUtil.memAlloc(count);
        try {
            staging.put(src, srcOffset, count).flip();
            ClErrors.check(clEnqueueWriteBuffer(queue, dst.mem(), true, dstByteOffset, staging, null, null), "clEnqueueWriteBuffer");
        } finally {
            MemoryUtil.memFree(staging);
        }
    }

    void download(ClBuffer src, long srcOffset, float[] dst, int dstOffset, int count) {
        checkRange(src, srcOffset, count);
        if (dstOffset < 0 || count < 0 || dstOffset + count > dst.length) throw new IndexOutOfBoundsException("download of " + count + " floats to offset " + dstOffset + " of a " + dst.length + "-float array");
        if (count == 0) return;
        FloatBuffer staging = MemoryUtil.memAllocFloat(count);
        try {
            ClErrors.check(clEnqueueReadBuffer(queue, src.mem(), true, srcOffset * Float.BYTES, staging, null, null), "clEnqueueReadBuffer");
            staging.get(dst, dstOffset, count);
        } finally {
            MemoryUtil.memFree(staging);
        }
    }

    private static void checkRange(ClBuffer b, long offset, long count) {
        if (offset < 0 || count < 0 || offset + count > b.elements()) {
            throw new IndexOutOfBoundsException("range [" + offset + ", " + (offset + count) + ") outside a buffer of " + b.elements() + " floats");
        }
    }

    void finish() { ClErrors.check(clFinish(queue), "clFinish"); }

    @Override
    public void close() {
        if (queue == 0) return;
        try {
            if (queue != 0) clFinish(queue);
        } finally {
            for (ClBuffer b : buffers.toArray(new ClBuffer[0])) {
                clReleaseMemObject(b.detach());
                ClObjects.released();
            }
            buffers.clear();
            allocatedBytes = 0;
            for (int i = kernelOrder.size() - 1; i >= 0; i--) {
                clReleaseKernel(kernelOrder.get(i));
                ClObjects.released();
            }
            kernelOrder.clear();
            kernels.clear();
            kernelGroupLimits.clear();
            clReleaseCommandQueue(queue);
            ClObjects.released();
            queue = 0;
            shared.release();
        }
    }
}
