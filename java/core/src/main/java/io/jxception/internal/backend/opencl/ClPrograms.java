package io.jxception.internal.backend.opencl;

import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static org.lwjgl.opencl.CL10.*;

/**
 * Builds OpenCL programs at first use and caches them, per cl_context. A program is identified by its
 * source name plus build options: sizes that shape the code (channel counts, tile sizes, epilogue
 * switches) are {@code -D} options, so each distinct layer shape gets a specialised binary. Every
 * packaged source is prefixed with {@code common.h}. A failed build throws with the build log.
 * Thread-safe: backends on several threads share one context (see {@link SharedContext}).
 */
final class ClPrograms implements AutoCloseable {
    static final String RESOURCE_DIR = "/io/jxception/opencl/";

    /**
     * Device binaries of programs built in this process, by device identity, source and options:
     * a backend opened after another one closed rebuilds its programs from these in a few
     * milliseconds instead of compiling again (pocl spends ~40 ms per build even when its own disk
     * cache hits). Only bytes are kept; every cl_program is still released with its context.
     */
    private static final Map<String, byte[]> BINARIES = new HashMap<>();

    /** What clang says when LLVM's crash handler removed its output under it (see {@link CompilerSignalHandlers}). */
    static final String LLVM_LOST_FILE = "unable to rename temporary";

    private final long context;
    private final long device;
    private final String deviceIdentity;
    private final Map<String, String> sources = new HashMap<>();
    private final Map<String, Long> programs = new HashMap<>();
    private final List<Long> creationOrder = new ArrayList<>();

    ClPrograms(long context, ClDevice device) {
        this.context = context;
        this.device = device.device();
        this.deviceIdentity = device.platformName() + "/" + device.name() + "/" + device.version();
    }

    /** The program of packaged source {@code file} (e.g. "sepconv_bn.cl") built with {@code options}. */
    long program(String file, String options) {
        return programFromSource(file, () -> resource("common.h") + "\n" + resource(file), options);
    }

    /** As {@link #program} for source text not packaged in the jar (the opencl/dev variants). */
    synchronized long programFromSource(String sourceKey, Supplier<String> source, String options) {
        String key = sourceKey + "|" + options;
        Long program = programs.get(key);
        if (program == null) {
            program = build(sourceKey, source.get(), options);
            programs.put(key, program);
            creationOrder.add(program);
        }
        return program;
    }

    private long build(String name, String source, String options) {
        String binaryKey = deviceIdentity + "|" + name + "|" + options + "|" + source.hashCode() + "|" + source.length();
        byte[] binary;
        synchronized (BINARIES) {
            binary = BINARIES.get(binaryKey);
        }
        if (binary != null) {
            long program = fromBinary(name, binary, options);
            if (program != 0) return program;
        }
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1);
            long program = clCreateProgramWithSource(context, source, err);
            ClErrors.check(err.get(0), "clCreateProgramWithSource(" + name + ")");
            ClObjects.created();
            int status = clBuildProgram(program, device, options, null, 0);
            CompilerSignalHandlers.restore();
            if (status != CL_SUCCESS && buildLog(program).contains(LLVM_LOST_FILE)) {
                // the compiler's crash handler deleted its own file (see CompilerSignalHandlers): built again, once
                status = clBuildProgram(program, device, options, null, 0);
                CompilerSignalHandlers.restore();
            }
            if (status != CL_SUCCESS) {
                String log = buildLog(program);
                clReleaseProgram(program);
                ClObjects.released();
                throw new IllegalStateException("OpenCL build of " + name + " with options [" + options + "] failed: "
                        + ClErrors.name(status) + " (" + status + "). Build log:\n" + log);
            }
            byte[] built = binaryOf(program);
            if (built != null) {
                synchronized (BINARIES) {
                    BINARIES.put(binaryKey, built);
                }
            }
            return program;
        }
    }

    /** The device binary of a built program, or null when the driver offers none. */
    private static byte[] binaryOf(long program) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer size = stack.mallocPointer(1);
            if (clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, size, null) != CL_SUCCESS || size.get(0) == 0) return null;
            ByteBuffer buf = MemoryUtil.memAlloc((int) size.get(0));
            try {
                PointerBuffer ptr = stack.mallocPointer(1).put(0, MemoryUtil.memAddress(buf));
                if (clGetProgramInfo(program, CL_PROGRAM_BINARIES, ptr, null) != CL_SUCCESS) return null;
                byte[] out = new byte[buf.remaining()];
                buf.get(out);
                return out;
            } finally {
                MemoryUtil.memFree(buf);
            }
        }
    }

    /** A program from a binary this process built before on the same kind of device; 0 if the driver refuses it. */
    private long fromBinary(String name, byte[] binary, String options) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1), binaryStatus = stack.mallocInt(1);
            ByteBuffer buf = MemoryUtil.memAlloc(binary.length);
            long program;
            try {
                buf.put(binary).flip();
                program = clCreateProgramWithBinary(context, stack.pointers(device), buf, binaryStatus, err);
            } finally {
                MemoryUtil.memFree(buf);
            }
            if (err.get(0) != CL_SUCCESS || binaryStatus.get(0) != CL_SUCCESS) return 0;
            ClObjects.created();
            int status = clBuildProgram(program, device, options, null, 0);
            CompilerSignalHandlers.restore();
            if (status != CL_SUCCESS) {
                clReleaseProgram(program);
                ClObjects.released();
                return 0;
            }
            return program;
        }
    }

    private String buildLog(long program) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer size = stack.mallocPointer(1);
            if (clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, (ByteBuffer) null, size) != CL_SUCCESS) return "(no build log)";
            ByteBuffer buf = MemoryUtil.memAlloc((int) size.get(0));
            try {
                if (clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, buf, null) != CL_SUCCESS) return "(no build log)";
                return ClDevice.decode(buf);
            } finally {
                MemoryUtil.memFree(buf);
            }
        }
    }

    private synchronized String resource(String file) {
        return sources.computeIfAbsent(file, f -> {
            try (InputStream in = ClPrograms.class.getResourceAsStream(RESOURCE_DIR + f)) {
                if (in == null) throw new IllegalStateException("OpenCL source " + RESOURCE_DIR + f + " is not on the classpath: was the jar built with the opencl/ resources?");
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IllegalStateException("reading OpenCL source " + f + ": " + e.getMessage(), e);
            }
        });
    }

    /** Releases the programs, newest first. Kernels created from them must be released before. */
    @Override
    public synchronized void close() {
        for (int i = creationOrder.size() - 1; i >= 0; i--) {
            clReleaseProgram(creationOrder.get(i));
            ClObjects.released();
        }
        creationOrder.clear();
        programs.clear();
    }
}
