package io.jxception.internal.distributed;

import com.sun.jna.Memory;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

/**
 * The two MPI application binary interfaces in use, and how each spells the handles and constants
 * that {@code mpi.h} defines as macros (a binding without a C compiler has to know them).
 *
 * <ul>
 *   <li><b>Open MPI</b> (4.x, 5.x): handles are pointers. The predefined ones are the addresses of
 *       global objects exported by libmpi: {@code MPI_COMM_WORLD = &ompi_mpi_comm_world},
 *       {@code MPI_FLOAT = &ompi_mpi_float}, {@code MPI_SUM = &ompi_mpi_op_sum}, ... (mpi.h's
 *       {@code OMPI_PREDEFINED_GLOBAL}). {@code MPI_IN_PLACE = (void*)1},
 *       {@code MPI_STATUS_IGNORE = NULL}, {@code MPI_COMM_TYPE_SHARED = 0} (first of an enum),
 *       {@code MPI_MAX_ERROR_STRING = MPI_MAX_LIBRARY_VERSION_STRING = 256}. Read from Debian 12's
 *       Open MPI 4.1.4 {@code mpi.h} and checked under its mpirun by the tests.</li>
 *   <li><b>MPICH</b> and the libraries that keep its ABI (Intel MPI, MVAPICH, Cray MPICH): handles
 *       are {@code int} constants, {@code MPI_COMM_WORLD = 0x44000000}, {@code MPI_FLOAT = 0x4c00040a},
 *       {@code MPI_SUM = 0x58000003}, ...; {@code MPI_IN_PLACE = (void*)-1},
 *       {@code MPI_STATUS_IGNORE = (MPI_Status*)1}, {@code MPI_COMM_TYPE_SHARED = 1},
 *       {@code MPI_MAX_ERROR_STRING = 512}, {@code MPI_MAX_LIBRARY_VERSION_STRING = 8192}. Read from
 *       Debian 12's MPICH 4.0.2 {@code mpi.h}; checked under its mpirun ({@code mpirun.mpich}) by
 *       the tests where that package is installed.</li>
 * </ul>
 * {@code MPI_THREAD_SINGLE..MULTIPLE} are 0..3 in both.
 *
 * <p>Handles travel through JNA as {@link Pointer} (Open MPI) or {@link Integer} (MPICH), so one
 * call site serves both: JNA passes each in the register its C type needs.
 */
public enum MpiAbi {
    /** Open MPI 4.x and 5.x. */
    OPEN_MPI(0, 256, 256, Pointer.createConstant(1), null),
    /** MPICH and the libraries that keep its ABI. */
    MPICH(1, 512, 8192, Pointer.createConstant(-1L), Pointer.createConstant(1));

    /** {@code MPI_COMM_TYPE_SHARED}: the split type that groups the processes of one node. */
    final int commTypeShared;
    /** {@code MPI_MAX_ERROR_STRING} (bytes, terminating zero included). */
    final int maxErrorString;
    /** {@code MPI_MAX_LIBRARY_VERSION_STRING}. */
    final int maxLibraryVersionString;
    /** {@code MPI_IN_PLACE}. */
    final Pointer inPlace;
    /** {@code MPI_STATUS_IGNORE}. */
    final Pointer statusIgnore;

    MpiAbi(int commTypeShared, int maxErrorString, int maxLibraryVersionString, Pointer inPlace, Pointer statusIgnore) {
        this.commTypeShared = commTypeShared;
        this.maxErrorString = maxErrorString;
        this.maxLibraryVersionString = maxLibraryVersionString;
        this.inPlace = inPlace;
        this.statusIgnore = statusIgnore;
    }

    /**
     * The ABI of a library from its {@code MPI_Get_library_version} string, or null when it is
     * neither Open MPI nor an MPICH derivative. Intel MPI, MVAPICH and Cray MPICH report names of
     * their own but keep MPICH's ABI ("MPICH ABI compatibility initiative").
     */
    public static MpiAbi fromVersion(String libraryVersion) {
        String v = libraryVersion.strip();
        if (v.startsWith("Open MPI")) return OPEN_MPI;
        if (v.startsWith("MPICH") || v.startsWith("Intel(R) MPI") || v.startsWith("MVAPICH") || v.startsWith("CRAY MPICH")) return MPICH;
        return null;
    }

    /** The predefined handles of this ABI in {@code library}. */
    Handles handles(NativeLibrary library) {
        return switch (this) {
            case OPEN_MPI -> new Handles(
                    global(library, "ompi_mpi_comm_world"),
                    global(library, "ompi_mpi_float"),
                    global(library, "ompi_mpi_double"),
                    global(library, "ompi_mpi_byte"),
                    global(library, "ompi_mpi_int"),
                    global(library, "ompi_mpi_op_sum"),
                    global(library, "ompi_mpi_errors_return"),
                    global(library, "ompi_mpi_info_null"));
            case MPICH -> new Handles(0x44000000, 0x4c00040a, 0x4c00080b, 0x4c00010d, 0x4c000405, 0x58000003, 0x54000001, 0x1c000000);
        };
    }

    /** Size of an output handle ({@code MPI_Comm*}, {@code MPI_Request*}): a pointer for Open MPI, an int for MPICH. */
    int handleBytes() {
        return this == OPEN_MPI ? Long.BYTES : Integer.BYTES;
    }

    /** A handle that a call stored in {@code out}. */
    Object readHandle(Memory out) {
        return this == OPEN_MPI ? out.getPointer(0) : (Object) out.getInt(0);
    }

    /** Stores {@code handle} into {@code out} (for calls that take a handle by address, such as MPI_Comm_free). */
    void writeHandle(Memory out, Object handle) {
        if (this == OPEN_MPI) out.setPointer(0, (Pointer) handle);
        else out.setInt(0, (Integer) handle);
    }

    private static Pointer global(NativeLibrary library, String symbol) {
        try {
            return library.getGlobalVariableAddress(symbol);
        } catch (UnsatisfiedLinkError e) {
            throw new IllegalStateException(library.getName() + " says it is Open MPI but has no symbol " + symbol
                    + ": the Open MPI handle layout this binding knows (4.x, 5.x) does not apply", e);
        }
    }

    /** The predefined handles, each a {@link Pointer} or an {@link Integer} (see {@link MpiAbi}). */
    record Handles(Object commWorld, Object floatType, Object doubleType, Object byteType, Object intType,
                   Object opSum, Object errorsReturn, Object infoNull) {}
}
