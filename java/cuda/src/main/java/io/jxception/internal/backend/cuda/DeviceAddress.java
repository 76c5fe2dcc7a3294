package io.jxception.internal.backend.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * The device address a {@link CUdeviceptr} stands for: its native pointer plus its byte offset (views,
 * scratch regions and arena blocks are offsets from one allocation). JCuda keeps both protected; a copy
 * through this subclass reads them without a driver call. Needed where an address is data rather than a
 * kernel argument JCuda resolves itself: the global address inside a TMA descriptor ({@link TensorMapEncoder}).
 */
final class DeviceAddress extends CUdeviceptr {
    private DeviceAddress(CUdeviceptr p) {
        super(p);   // copies the native pointer and the byte offset
    }

    static long of(CUdeviceptr p) {
        DeviceAddress a = new DeviceAddress(p);
        return a.getNativePointer() + a.getByteOffset();
    }
}
