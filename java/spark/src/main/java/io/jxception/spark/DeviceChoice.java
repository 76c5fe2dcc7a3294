package io.jxception.spark;

import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Which backend a task runs on: the GPU that Spark's scheduler assigned to the task
 * ({@code spark.task.resource.gpu.amount}, addresses from the executor's discovery script), as
 * {@code cuda:<address>}, when the configured name leaves the choice open ({@code auto}) or asks for
 * CUDA; otherwise the configured name. A configured {@code cpu} or {@code opencl[:i]} is kept even
 * where Spark assigned a GPU: the user asked for that device.
 */
final class DeviceChoice {
    /** Backend names {@link io.jxception.backend.Backends#open} takes, as the command line checks them. */
    private static final Pattern NAME = Pattern.compile("auto|(cpu|opencl|cuda)(:(\\d+|local))?");

    /** The resource name Spark's GPU scheduling uses. */
    static final String GPU_RESOURCE = "gpu";

    private DeviceChoice() {}

    /**
     * The configured name, trimmed and lower-cased.
     *
     * @throws IllegalArgumentException for a name that is not auto, cpu, opencl[:i|:local] or cuda[:i|:local]
     */
    static String checkName(String configured) {
        String s = configured.trim().toLowerCase(Locale.ROOT);
        if (!NAME.matcher(s).matches()) {
            throw new IllegalArgumentException("unknown backend '" + configured + "': expected auto, cpu, opencl[:i], cuda[:i] (i = a device index or local)");
        }
        return s;
    }

    /**
     * The backend name for a task that Spark gave {@code gpuAddresses} (empty when none). With more
     * than one address the first is used: one task drives one device.
     */
    static String backendFor(String configured, String[] gpuAddresses) {
        String name = checkName(configured);
        boolean cudaOrOpen = name.equals("auto") || name.equals("cuda") || name.startsWith("cuda:");
        if (cudaOrOpen && gpuAddresses.length > 0) return "cuda:" + gpuAddresses[0].trim();
        return name;
    }

    /** The GPU addresses Spark assigned to the running task; empty outside a task or without GPU scheduling. */
    static String[] taskGpuAddresses(TaskContext task) {
        if (task == null) return new String[0];
        ResourceInformation gpu = task.resourcesJMap().get(GPU_RESOURCE);
        return gpu == null ? new String[0] : gpu.addresses();
    }
}
