package io.jxception.internal.backend.opencl;

import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.backend.BackendProvider;
import io.jxception.backend.BackendUnavailableException;
import io.jxception.backend.Precision;
import io.jxception.backend.Probe;

import java.util.ArrayList;
import java.util.List;

/**
 * The "opencl" backend kind. Devices of all platforms form one list: {@code opencl:0} is the first
 * device of the first platform, and so on ({@code jxception info} prints the list). GPUs rank 200,
 * CPUs (pocl, Intel CPU runtime) 100.
 */
public final class OpenClBackendProvider implements BackendProvider {
    @Override
    public String kind() { return "opencl"; }

    @Override
    public Probe probe() {
        try {
            String why = OpenClLibrary.load();
            if (why != null) return Probe.unavailable(kind(), "OpenCL unavailable: " + why);
            List<ClDevice> devices = ClDevice.all();
            if (devices.isEmpty()) {
                return Probe.unavailable(kind(), "OpenCL unavailable: the OpenCL library (" + OpenClLibrary.loadedFrom()
                        + ") found no platform with a device; install a driver (e.g. pocl-opencl-icd for CPUs) so that /etc/OpenCL/vendors lists it");
            }
            List<Probe.Device> out = new ArrayList<>();
            for (ClDevice d : devices) out.add(new Probe.Device(d.index(), d.name(), d.details(), d.rank()));
            return Probe.of(kind(), out);
        } catch (Throwable t) {
            return Probe.unavailable(kind(), "OpenCL unavailable: " + t);
        }
    }

    @Override
    public KernelBackend open(int index, Precision precision, java.util.Map<String, String> options) {
        BackendProvider.requireNoOptions(kind(), options);
        if (precision != Precision.FP32) {
            throw new BackendUnavailableException("the OpenCL backend computes in fp32 only; asked for " + precision + " (use --precision fp32)");
        }
        String why = OpenClLibrary.load();
        if (why != null) throw new BackendUnavailableException("OpenCL unavailable: " + why);
        List<ClDevice> devices = ClDevice.all();
        if (index < 0 || index >= devices.size()) {
            throw new IllegalArgumentException("no OpenCL device " + index + ": " + devices.size() + " found (see 'jxception info')");
        }
        return new OpenClBackend(devices.get(index));
    }
}
