package io.jxception.internal.backend.cuda;

import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.TensorMap;

/**
 * {@code cuTensorMapEncodeTiled} from the driver (libcuda.so.1) through JNA: JCuda 12.6 binds no TMA
 * call, and the Hopper kernels take their operands as {@code const __grid_constant__ CUtensorMap}
 * (an opaque 128-byte, 64-byte-aligned descriptor passed by value). The driver library is the one
 * JCuda already loaded into the process; nothing else is bound.
 *
 * <p>Enum values (cuda.h, CUDA 12+): the data types in {@link CudaLaunchPlan.TmaElement} (FLOAT16 = 6,
 * FLOAT32 = 7, BFLOAT16 = 9); CU_TENSOR_MAP_INTERLEAVE_NONE = 0; CU_TENSOR_MAP_SWIZZLE_128B = 3; CU_TENSOR_MAP_L2_PROMOTION_L2_256B = 3;
 * CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE = 0 (out-of-bounds elements read as zeros, stores clipped).
 */
final class TensorMapEncoder {
    /** sizeof(CUtensorMap). */
    static final int BYTES = 128;
    static final int INTERLEAVE_NONE = 0, SWIZZLE_128B = 3, L2_PROMOTION_256B = 3, OOB_FILL_NONE = 0;

    private final Function encode;

    private TensorMapEncoder(Function encode) { this.encode = encode; }

    /** The driver's encoder, or an exception that says why it is missing (a driver older than CUDA 12). */
    static TensorMapEncoder load() {
        try {
            return new TensorMapEncoder(NativeLibrary.getInstance(driverLibrary()).getFunction("cuTensorMapEncodeTiled"));
        } catch (UnsatisfiedLinkError e) {
            throw new IllegalStateException("cuTensorMapEncodeTiled not found in the CUDA driver (" + driverLibrary()
                    + "): the wgmma kernels need a CUDA 12+ driver: " + e.getMessage(), e);
        }
    }

    private static String driverLibrary() {
        return System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).startsWith("windows") ? "nvcuda" : "libcuda.so.1";
    }

    /** The arguments of one encode call, derived from a planned {@link TensorMap} and the operand's address. */
    record Call(int dataType, long address, long[] globalDim, long[] globalStrides, int[] boxDim, int[] elementStrides) {}

    /**
     * The call for {@code m} over a matrix at device address {@code address}: dimensions innermost
     * first (cols, rows), one stride (bytes per row), the box (boxCols, boxRows), unit element strides.
     * TMA needs the address 16-byte aligned; views at odd offsets are refused here with the operand's name.
     */
    static Call call(TensorMap m, long address) {
        if (address == 0) throw new IllegalArgumentException(m.name() + ": operand " + m.operand() + " has no device address");
        if (address % 16 != 0) {
            throw new IllegalArgumentException(m.name() + ": operand " + m.operand() + " at 0x" + Long.toHexString(address)
                    + " is not 16-byte aligned, as TMA requires (a buffer view at an odd offset?)");
        }
        return new Call(m.element().cuType, address, new long[]{m.cols(), m.rows()},
                new long[]{m.rowBytes()}, new int[]{m.boxCols(), m.boxRows()}, new int[]{1, 1});
    }

    /** The 128 bytes of the encoded CUtensorMap, to pass as the kernel argument. */
    byte[] encode(TensorMap m, long address) {
        Call c = call(m, address);
        try (Memory raw = new Memory(BYTES + 64)) {
            Pointer map = raw.align(64);
            int r = encode.invokeInt(new Object[]{map, c.dataType(), 2, new Pointer(c.address()), c.globalDim(), c.globalStrides(), c.boxDim(),
                    c.elementStrides(), INTERLEAVE_NONE, SWIZZLE_128B, L2_PROMOTION_256B, OOB_FILL_NONE});
            if (r != 0) {
                throw new IllegalStateException("cuTensorMapEncodeTiled failed (CUresult " + r + ") for " + m.name() + " over " + m.operand() + ": ("
                        + m.rows() + ", " + m.cols() + ") at 0x" + Long.toHexString(address) + ", box (" + m.boxRows() + ", " + m.boxCols() + ")");
            }
            return map.getByteArray(0, BYTES);
        }
    }
}
