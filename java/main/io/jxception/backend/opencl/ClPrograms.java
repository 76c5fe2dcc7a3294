package io.jxception.backend.opencl;

import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.lwjgl.opencl.CL10.*;

/**
 * Builds OpenCL programs at first use and caches them with their kernels, per context. A program is
 * identified by its source name plus build options: sizes that shape the code (channel counts, tile
 * sizes, epilogue switches) are {@code -D} options, so each distinct layer shape gets a specialised
 * binary. Every source is prefixed with {@code common.h}. A failed build throws with the build log.
 */
final class ClPrograms implements AutoCloseable {
    static final String RESOURCE_DIR = "/io/jxception/opencl/";

    private final long context;
    private final long device;
    private final Map<String, String> sources = new HashMap<>();
    private final Map<String, Long> programs = new HashMap<>();
    private final Map<String, Long> kernels = new HashMap<>();
    /** Creation order, released in reverse. */
    private final List<Long> programOrder = new ArrayList<>();
    private final List<Long> kernelOrder = new ArrayList<>();

    ClPrograms(long context, long device) {
        this.context = context;
        this.device = device;
    }

    /** Kernel {@code kernelName} from packaged source {@code file} (e.g. "sepconv_bn.cl") built with {@code options}. */
    long kernel(String file, String kernelName, String options) {
        return kernelFromSource(file, () -> resource("common.h") + "\n" + resource(file), kernelName, options);
    }

    /** As {@link #kernel} for source text not packaged in the jar (the opencl/dev variants). */
    long kernelFromSource(String sourceKey, java.util.function.Supplier<String> source, String kernelName, String options) {
        String programKey = sourceKey + "|" + options;
        String kernelKey = programKey + "|" + kernelName;
        Long k = kernels.get(kernelKey);
        if (k != null) return k;
        Long program = programs.get(programKey);
        if (program == null) {
            program = build(sourceKey, source.get(), options);
            programs.put(programKey, program);
            programOrder.add(program);
        }
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1);
            long kernel = clCreateKernel(program, kernelName, err);
            ClErrors.check(err.get(0), "clCreateKernel(" + kernelName + " in " + sourceKey + ")");
            ClObjects.created();
            kernels.put(kernelKey, kernel);
            kernelOrder.add(kernel);
            return kernel;
        }
    }

    /** Number of distinct programs built (one per source and option set). */
    int programCount() { return programs.size(); }

    private long build(String name, String source, String options) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1);
            long program = clCreateProgramWithSource(context, source, err);
            ClErrors.check(err.get(0), "clCreateProgramWithSource(" + name + ")");
            ClObjects.created();
            int status = clBuildProgram(program, device, options, null, 0);
            if (status != CL_SUCCESS) {
                String log = buildLog(program);
                clReleaseProgram(program);
                ClObjects.released();
                throw new IllegalStateException("OpenCL build of " + name + " with options [" + options + "] failed: "
                        + ClErrors.name(status) + " (" + status + "). Build log:\n" + log);
            }
            return program;
        }
    }

    private String buildLog(long program) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer size = stack.mallocPointer(1);
            if (clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, (ByteBuffer) null, size) != CL_SUCCESS) return "(no build log)";
            ByteBuffer buf = org.lwjgl.system.MemoryUtil.memAlloc((int) size.get(0));
            try {
                if (clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, buf, null) != CL_SUCCESS) return "(no build log)";
                return ClDevice.decode(buf);
            } finally {
                org.lwjgl.system.MemoryUtil.memFree(buf);
            }
        }
    }

    private String resource(String file) {
        return sources.computeIfAbsent(file, f -> {
            try (InputStream in = ClPrograms.class.getResourceAsStream(RESOURCE_DIR + f)) {
                if (in == null) throw new IllegalStateException("OpenCL source " + RESOURCE_DIR + f + " is not on the classpath: was the jar built with the opencl/ resources?");
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IllegalStateException("reading OpenCL source " + f + ": " + e.getMessage(), e);
            }
        });
    }

    @Override
    public void close() {
        for (int i = kernelOrder.size() - 1; i >= 0; i--) {
            clReleaseKernel(kernelOrder.get(i));
            ClObjects.released();
        }
        for (int i = programOrder.size() - 1; i >= 0; i--) {
            clReleaseProgram(programOrder.get(i));
            ClObjects.released();
        }
        kernelOrder.clear();
        programOrder.clear();
        kernels.clear();
        programs.clear();
    }
}
