package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.backend.DeviceEvents;
import io.jxception.internal.backend.BatchNormSpec;
import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.BufferViews;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.backend.DeviceMemoryException;
import io.jxception.internal.backend.Epilogue;
import io.jxception.internal.backend.HeadSpec;
import io.jxception.internal.backend.LaunchRecording;
import io.jxception.internal.backend.OverlappedTransfers;
import io.jxception.internal.backend.PoolSpec;
import io.jxception.internal.backend.WeightUpdate;
import io.jxception.backend.Precision;
import io.jxception.internal.backend.cuda.CudaBuffer.Storage;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Arg;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Launch;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Limits;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.OpPlan;
import io.jxception.model.ConvKind;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.JCudaDriver;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * The CUDA backend: one device, one primary context, one non-blocking stream; kernels from the jar
 * (cubin for the device's architecture, else PTX).
 *
 * <p><b>Storage and precision.</b> {@link Precision} sets the arithmetic of the convolution GEMMs
 * (FP32: FFMA; TF32/BF16/FP16: tensor cores) and the storage of activations: fp32 for FP32/TF32,
 * bf16/fp16 for BF16/FP16, halving the bytes every memory-bound kernel moves. Parameters, batch
 * statistics, predictions, losses and all weight gradients stay fp32 (master weights for SGD; fp16
 * training scales the loss gradient in the head kernel and unscales the fp32 weight gradients with
 * {@link #unscaleGradient}, which flags Inf/NaN on the device). A
 * buffer remembers what it holds ({@link CudaBuffer#storage()}): a whole-buffer upload stores exact
 * fp32, a kernel output stores its role's type, and when an op reads an fp32 buffer as an activation
 * (the network input, a test tensor) the backend first converts it into scratch memory, so every
 * kernel sees one activation type. Downloads convert back to float on the host.
 *
 * <p><b>Throughput engine.</b> {@link Options#arenaBytes()} carves every buffer from one cuMemAlloc;
 * uploads and downloads go through two page-locked staging buffers; {@link #beginCapture()},
 * {@link #endCapture()} and {@link #replay(CudaGraph)} record a sequence of ops as a CUDA graph and
 * relaunch it with one call (the executor's steady-state forward). Scratch memory for an op grows on
 * demand outside a capture; run the sequence once before capturing it.
 *
 * <p>Thread-safe: sessions on different threads may share one backend. Every entry holds the
 * backend's lock (one stream, one capture state, shared scratch and staging memory: launches of two
 * sessions interleave but never overlap a capture or each other's argument binding) and makes the
 * context current on the calling thread.
 */
public final class CudaBackend implements KernelBackend, DeviceEvents, LaunchRecording, OverlappedTransfers, BufferViews {
    /**
     * @param arenaBytes   one device allocation that every buffer is carved from (0: cuMemAlloc per buffer)
     * @param stagingBytes size of each of the two page-locked host buffers for copies
     * @param syncEachLaunch synchronize after every launch and name the kernel in any error (debugging, tests)
     * @param sepconv      the 16-bit separable conv path (split or fused), its scratch bound and the pointwise GEMM
     *                     of the split path (options {@code cuda.sepconv}, {@code cuda.sepconvChunkMiB}, {@code cuda.pointwise})
     * @param stem         which kernels run the 3x3 stem convolutions
     * @param pwbwd        which kernels run the pointwise GEMMs of the 16-bit separable conv backward
     *                     (option {@code cuda.pwbwd=ffma|mma|wgmma}; default ffma until mma is measured on a card;
     *                     wgmma: compute capability 9.0 only)
     */
    public record Options(long arenaBytes, long stagingBytes, boolean syncEachLaunch, SeparableGemmPath.Choice sepconv, StemConvPath stem,
                          PointwiseBackwardPath.Choice pwbwd) {
        /** The measured winners (README, "CUDA kernel paths"); cuda.pwbwd stays ffma, mma is not measured yet. */
        public static final Options DEFAULT = new Options(0, 16L << 20, false, SeparableGemmPath.Choice.DEFAULT, StemConvPath.NEW,
                PointwiseBackwardPath.Choice.DEFAULT);
        /** The keys {@link #parse} knows, as {@code Backends.open(spec, precision, options)} takes them. */
        public static final java.util.List<String> KEYS = java.util.List.of("cuda.pointwise", "cuda.pwbwd", "cuda.sepconv", "cuda.sepconvChunkMiB", "cuda.stem", "cuda.sync");

        public Options {
            if (arenaBytes < 0) throw new IllegalArgumentException("arenaBytes must be >= 0");
            if (stagingBytes < 1 << 16) throw new IllegalArgumentException("stagingBytes must be at least 64 KiB");
            java.util.Objects.requireNonNull(sepconv, "sepconv");
            java.util.Objects.requireNonNull(stem, "stem");
            java.util.Objects.requireNonNull(pwbwd, "pwbwd");
        }

        /**
         * The defaults changed by the {@code cuda.*} entries of {@code options} ({@link #KEYS}); entries
         * for other backends are ignored, an unknown {@code cuda.*} key or a bad value is an error.
         */
        public static Options parse(java.util.Map<String, String> options) {
            for (String key : options.keySet()) {
                if (key.startsWith("cuda.") && !KEYS.contains(key)) {
                    throw new IllegalArgumentException("unknown CUDA backend option '" + key + "': expected one of " + KEYS);
                }
            }
            SeparableGemmPath.Choice sepconv = SeparableGemmPath.Choice.parse(options.get("cuda.sepconv"), options.get("cuda.sepconvChunkMiB"),
                    options.get(SeparableGemmPath.Choice.POINTWISE_OPTION));
            StemConvPath stem = options.containsKey("cuda.stem") ? StemConvPath.parse(options.get("cuda.stem")) : DEFAULT.stem;
            PointwiseBackwardPath.Choice pwbwd = PointwiseBackwardPath.Choice.parse(options.get(PointwiseBackwardPath.Choice.OPTION));
            boolean sync = false;
            String s = options.get("cuda.sync");
            if (s != null) {
                sync = switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
                    case "true" -> true;
                    case "false" -> false;
                    default -> throw new IllegalArgumentException("cuda.sync=" + s + ": expected true or false");
                };
            }
            return new Options(DEFAULT.arenaBytes, DEFAULT.stagingBytes, sync, sepconv, stem, pwbwd);
        }

        public Options withArena(long bytes) { return new Options(bytes, stagingBytes, syncEachLaunch, sepconv, stem, pwbwd); }

        public Options withSyncEachLaunch(boolean sync) { return new Options(arenaBytes, stagingBytes, sync, sepconv, stem, pwbwd); }

        public Options withSepconv(SeparableGemmPath.Choice c) { return new Options(arenaBytes, stagingBytes, syncEachLaunch, c, stem, pwbwd); }

        public Options withStem(StemConvPath path) { return new Options(arenaBytes, stagingBytes, syncEachLaunch, sepconv, path, pwbwd); }

        public Options withPwbwd(PointwiseBackwardPath.Choice c) { return new Options(arenaBytes, stagingBytes, syncEachLaunch, sepconv, stem, c); }
    }

    private final int deviceIndex;
    private final Precision precision;
    private final Options options;
    private final Storage actStorage;
    private final CudaBackendProvider.DeviceInfo info;
    private final Limits limits;
    private final StemConvPath stemPath;       // option cuda.stem
    private final String imageDescription;
    private final SeparableGemmPath.Choice sepconv;   // options cuda.sepconv, cuda.sepconvChunkMiB, cuda.pointwise: fused or split 16-bit sepconvs
    private final TensorMapEncoder tensorMaps;        // the driver's TMA descriptor encoder where wgmma kernels run, else null
    private final PointwiseBackwardPath.Choice pwbwd; // option cuda.pwbwd: FFMA or tensor-core pointwise GEMMs in the 16-bit sepconv backward
    private final Map<String, Integer> residentBlocks = new HashMap<>();   // kernel -> blocks per SM at its planned shared memory
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    private final List<CUmodule> modules = new ArrayList<>();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final Map<String, Integer> sharedLimitSet = new HashMap<>();
    private final Set<CudaBuffer> live = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Set<CudaGraph> graphs = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Staging[] staging = new Staging[2];
    private int nextStaging;
    private CUdeviceptr arenaBase;             // (arenaBytes) bytes, or null
    private DeviceArena arena;
    private CUdeviceptr scratch;               // (scratchBytes) bytes of per-op temporaries, grown on demand
    private long scratchBytes;
    // Scratch blocks replaced by a larger one while recorded graphs still point into them: a graph
    // replays the addresses it captured, so these live until no graph is left (or close()).
    private final List<CUdeviceptr> retiredScratch = new ArrayList<>();
    private boolean streamCreated;
    private CudaAsyncTransfers transfers;      // the copy stream and its page-locked memory, on first use
    private boolean capturing;
    private int capturedLaunches;
    private long launches;
    private boolean closed;

    /** A page-locked host buffer and the event that marks the end of its last copy. */
    private static final class Staging {
        final Pointer host = new Pointer();   // (bytes) page-locked
        final ByteBuffer bytes;
        final CUevent done = new CUevent();

        Staging(long size) {
            JCudaDriver.cuMemHostAlloc(host, size, 0);
            bytes = host.getByteBuffer(0, size).order(ByteOrder.nativeOrder());
            JCudaDriver.cuEventCreate(done, jcuda.driver.CUevent_flags.CU_EVENT_DISABLE_TIMING);
            JCudaDriver.cuEventRecord(done, null);
        }
    }

    CudaBackend(int deviceIndex, Precision precision, Options options, StemConvPath stemPath) {
        this(deviceIndex, precision, options.withStem(stemPath));
    }

    CudaBackend(int deviceIndex, Precision precision, Options options) {
        this.deviceIndex = deviceIndex;
        this.stemPath = options.stem();
        this.sepconv = options.sepconv();
        this.pwbwd = options.pwbwd();
        this.precision = precision;
        this.options = options;
        this.actStorage = switch (precision) {
            case FP32, TF32 -> Storage.F32;
            case BF16 -> Storage.BF16;
            case FP16 -> Storage.F16;
        };
        CudaBackendProvider.initDriver();
        this.info = CudaBackendProvider.DeviceInfo.query(deviceIndex);
        this.limits = new Limits(info.smCount(), info.maxSharedPerBlock());
        JCudaDriver.cuDeviceGet(device, deviceIndex);
        JCudaDriver.cuDevicePrimaryCtxRetain(context, device);
        boolean ok = false;
        try {
            JCudaDriver.cuCtxSetCurrent(context);
            Properties manifest = CudaKernelImages.manifest();
            if (manifest == null) throw new IllegalStateException(CudaKernelImages.NOT_COMPILED);
            String desc = null;
            for (String m : CudaKernelImages.modules(manifest)) {
                CudaKernelImages.Image img = CudaKernelImages.image(m, info.ccMajor(), info.ccMinor());
                loadModule(img);
                desc = img.description();
            }
            if (needsHopperKernels(options)) {
                // the sm_90a cubin runs on compute capability 9.0 only (no PTX to fall back to): refuse, never
                // run the mma.sync GEMM under a wgmma label
                String refusal = hopperRefusal(options, deviceIndex, info.name(), info.ccMajor(), info.ccMinor());
                if (refusal != null) throw new IllegalArgumentException(refusal);
                for (String m : HOPPER_MODULES) loadModule(CudaKernelImages.archImage(manifest, m, "sm_90a"));
                desc += " + " + String.join(", ", HOPPER_MODULES) + " sm_90a cubins";
                this.tensorMaps = TensorMapEncoder.load();
            } else {
                this.tensorMaps = null;
            }
            this.imageDescription = desc;
            JCudaDriver.cuStreamCreate(stream, jcuda.driver.CUstream_flags.CU_STREAM_NON_BLOCKING);
            streamCreated = true;
            for (int i = 0; i < staging.length; i++) staging[i] = new Staging(options.stagingBytes());
            if (options.arenaBytes() > 0) {
                arenaBase = new CUdeviceptr();
                deviceAlloc(arenaBase, options.arenaBytes(), "memory arena");
                arena = new DeviceArena(options.arenaBytes());
            }
            ok = true;
        } catch (IOException e) {
            throw new IllegalStateException("reading the CUDA kernels from the jar failed: " + e.getMessage(), e);
        } finally {
            if (!ok) close();
        }
    }

    /** Whether {@code o} runs sm_90a kernels: cuda.pointwise=wgmma or cuda.pwbwd=wgmma (whatever the precision). */
    static boolean needsHopperKernels(Options o) {
        return o.sepconv().pointwise() == SeparableGemmPath.Pointwise.WGMMA || o.pwbwd() == PointwiseBackwardPath.Choice.WGMMA;
    }

    /**
     * Why a device of compute capability major.minor cannot open with {@code o}, or null: the wgmma
     * options need 9.0 (sm_90a code runs nowhere else). Names the first such option and its mma.sync
     * alternative.
     */
    static String hopperRefusal(Options o, int deviceIndex, String deviceName, int major, int minor) {
        if (!needsHopperKernels(o) || (major == 9 && minor == 0)) return null;
        String option = o.sepconv().pointwise() == SeparableGemmPath.Pointwise.WGMMA ? SeparableGemmPath.Choice.POINTWISE_OPTION : PointwiseBackwardPath.Choice.OPTION;
        return option + "=wgmma needs a compute capability 9.0 device (H100/H200); cuda:" + deviceIndex
                + " is " + deviceName + " (" + major + "." + minor + "): use " + option + "=mma";
    }

    /** The modules of the wgmma kernels (cuda/hopper_pwgemm.cu, hopper_sepconv.cu, hopper_pwbwd.cu), loaded with cuda.pointwise=wgmma or cuda.pwbwd=wgmma. */
    static final List<String> HOPPER_MODULES = List.of("hopper_pwgemm", "hopper_sepconv", "hopper_pwbwd");

    private void loadModule(CudaKernelImages.Image img) {
        CUmodule module = new CUmodule();
        try {
            JCudaDriver.cuModuleLoadData(module, img.data());
        } catch (CudaException e) {
            throw new IllegalStateException("loading kernel module " + img.module() + " (" + img.description() + ") failed: " + e.getMessage(), e);
        }
        modules.add(module);
    }

    // ------------------------------------------------------------------ identity

    @Override public String name() { return "cuda:" + deviceIndex; }

    @Override public String description() {
        return info.name() + " (" + info.details() + "), " + precision.name().toLowerCase(java.util.Locale.ROOT) + ", kernels: " + imageDescription
                + (arena != null ? ", arena " + (arena.capacity() >> 20) + " MiB" : "") + (sepconv.split() ? ", split sepconv" : "")
                + wgmmaNote()
                + switch (pwbwd) {
                    case FFMA -> "";
                    case MMA -> ", mma pointwise backward";
                    case WGMMA -> ", pointwise backward wgmma dgrad + wgmma wgrad";
                };
    }

    /** What the wgmma kernels run in this backend's precision ("" where they run nothing: FP32, or TF32 fused). */
    private String wgmmaNote() {
        if (sepconv.pointwise() != SeparableGemmPath.Pointwise.WGMMA) return "";
        boolean sixteen = precision == Precision.BF16 || precision == Precision.FP16;
        if (sepconv.split()) return sixteen || precision == Precision.TF32 ? ", wgmma pointwise" : "";
        return sixteen ? ", fused wgmma sepconv" : "";
    }

    @Override public Precision precision() { return precision; }

    /** Which kernels run the 3x3 stem convolutions (option {@code cuda.stem}). */
    StemConvPath stemPath() { return stemPath; }

    /** Planner limits of this device (SM count, shared memory per block). */
    public synchronized Limits limits() { return limits; }

    /** Kernel launches enqueued so far (graph replays count as one). */
    public synchronized long launchCount() { return launches; }

    /** Free and total device memory in bytes (cuMemGetInfo). */
    public synchronized long[] memoryInfo() {
        bind();
        long[] free = new long[1], total = new long[1];
        JCudaDriver.cuMemGetInfo(free, total);
        return new long[]{free[0], total[0]};
    }

    // ------------------------------------------------------------------ memory

    @Override public synchronized Buffer allocate(long elements) {
        return allocate(elements, null, "buffer");
    }

    /** One buffer of {@code elements}: 4 bytes each, or 2 for a {@code compact} (16-bit only) buffer; from the arena where there is one. */
    private Buffer allocate(long elements, Storage compact, String what) {
        if (elements < 1) throw new IllegalArgumentException("allocate needs at least one element, got " + elements);
        bind();
        long bytes = Math.multiplyExact(elements, compact == null ? 4L : compact.bytes);
        CudaBuffer b;
        if (arena != null) {
            long off = arena.allocate(bytes);
            if (off < 0) {
                throw new DeviceMemoryException("CUDA arena out of memory: asked for " + bytes + " bytes, largest free block " + arena.largestFree()
                        + " of " + arena.capacity() + ": open the backend with a larger arena");
            }
            b = new CudaBuffer(this, arenaBase.withByteOffset(off), elements, off, null, compact);
        } else {
            CUdeviceptr p = new CUdeviceptr();
            deviceAlloc(p, bytes, what + " of " + elements + " elements");
            b = new CudaBuffer(this, p, elements, -1, null, compact);
        }
        live.add(b);
        return b;
    }

    /**
     * {@inheritDoc} In BF16/FP16 mode 2 bytes per element (half of {@link #allocate}): the buffer then
     * holds only that 16-bit storage. A kernel output of another storage (fp32) into it is an error,
     * and {@link #upload} rounds into it as a partial upload into a 16-bit buffer does. In FP32/TF32
     * mode the same as {@link #allocate}.
     */
    @Override public synchronized Buffer allocateActivations(long elements) {
        return allocate(elements, actStorage.bytes == 4 ? null : actStorage, "activation buffer");
    }

    /** Views start on 256-byte boundaries (the alignment cuMemAlloc gives, which vector loads rely on). */
    static final long VIEW_ALIGN_ELEMENTS = 64;

    /** {@link BufferViews}: one allocation (through {@link #allocate}) and views into it. */
    @Override public synchronized Block allocateBlock(long[] sizes) {
        long total = 0;
        long[] offsets = new long[sizes.length];
        for (int i = 0; i < sizes.length; i++) {
            if (sizes[i] < 1) throw new IllegalArgumentException("block buffer " + i + " needs at least one element, got " + sizes[i]);
            offsets[i] = total;
            total = Math.addExact(total, Math.addExact(sizes[i], VIEW_ALIGN_ELEMENTS - 1) / VIEW_ALIGN_ELEMENTS * VIEW_ALIGN_ELEMENTS);
        }
        CudaBuffer block = (CudaBuffer) allocate(Math.max(total, 1));
        Buffer[] views = new Buffer[sizes.length];
        for (int i = 0; i < sizes.length; i++) views[i] = new CudaBuffer(this, block.ptr.withByteOffset(4 * offsets[i]), sizes[i], -1, block);
        return new Block() {
            @Override public Buffer[] views() { return views.clone(); }

            @Override public void close() { block.close(); }
        };
    }

    private void deviceAlloc(CUdeviceptr p, long bytes, String what) {
        try {
            JCudaDriver.cuMemAlloc(p, bytes);
        } catch (CudaException e) {
            long[] free = new long[1], total = new long[1];
            try {
                JCudaDriver.cuMemGetInfo(free, total);
            } catch (CudaException ignored) {
                // report without the free size
            }
            throw new DeviceMemoryException("CUDA out of memory allocating " + what + ": " + bytes + " bytes asked, " + free[0] + " of " + total[0]
                    + " free on " + info.name() + " (" + e.getMessage() + ")");
        }
    }

    /**
     * Bytes of device memory in use on this backend's device now (total minus free, as the driver
     * reports it: every context on the device, this one's own reservation included). Benchmarks take
     * the difference before and after a session to report what the session holds.
     */
    public synchronized long deviceMemoryUsedBytes() {
        bind();
        long[] free = new long[1], total = new long[1];
        JCudaDriver.cuMemGetInfo(free, total);
        return total[0] - free[0];
    }

    /** Device allocations (buffers and blocks) this backend holds now. */
    int liveAllocations() { return live.size(); }

    synchronized void release(CudaBuffer b) {
        if (!live.remove(b)) return;
        bind();
        if (b.arenaOffset >= 0) arena.free(b.arenaOffset);
        else JCudaDriver.cuMemFree(b.ptr);
    }

    synchronized void forget(CudaGraph g) {
        graphs.remove(g);
        if (graphs.isEmpty() && !retiredScratch.isEmpty()) {
            JCudaDriver.cuStreamSynchronize(stream);
            for (CUdeviceptr p : retiredScratch) JCudaDriver.cuMemFree(p);
            retiredScratch.clear();
        }
    }

    /** Bytes of per-op scratch memory now allocated (grows on demand; tests check graph safety with it). */
    synchronized long scratchBytes() { return scratchBytes; }

    /** Makes this backend's context current on the calling thread. */
    synchronized void bind() {
        if (closed) throw new IllegalStateException("CUDA backend " + name() + " is closed");
        JCudaDriver.cuCtxSetCurrent(context);
    }

    synchronized CudaBuffer own(Buffer b, String role) {
        if (!(b instanceof CudaBuffer cb) || cb.owner() != this) {
            throw new IllegalArgumentException(role + " is not a buffer of this backend (" + name() + "): " + b);
        }
        if (cb.isClosed()) throw new IllegalArgumentException(role + " was closed");
        return cb;
    }

    @Override public synchronized void upload(float[] src, int srcOffset, Buffer dst, long dstOffset, int count) {
        requireNotCapturing("upload");
        CudaBuffer d = own(dst, "upload destination");
        checkRange("upload", src.length, srcOffset, d, dstOffset, count);
        bind();
        // A whole-buffer upload stores exact fp32; a partial one keeps a 16-bit buffer 16-bit; a compact
        // (2-byte) buffer holds its 16-bit storage whatever is uploaded.
        Storage s = d.compact != null ? d.compact
                : (dstOffset == 0 && count == d.elements()) || d.storage == Storage.EMPTY || d.storage == Storage.U8 ? Storage.F32 : d.storage;
        int eb = s.bytes;
        long done = 0;
        while (done < count) {
            Staging st = staging[nextStaging];
            nextStaging = (nextStaging + 1) % staging.length;
            JCudaDriver.cuEventSynchronize(st.done);   // the previous copy out of this buffer has finished
            int n = (int) Math.min(count - done, st.bytes.capacity() / eb);
            ByteBuffer bb = st.bytes;
            bb.clear();
            int from = srcOffset + (int) done;
            switch (s) {
                case F32 -> bb.asFloatBuffer().put(src, from, n);
                case BF16 -> { for (int i = 0; i < n; i++) bb.putShort(2 * i, HalfFloats.toBf16(src[from + i])); }
                case F16 -> { for (int i = 0; i < n; i++) bb.putShort(2 * i, HalfFloats.toF16(src[from + i])); }
                case EMPTY, U8 -> throw new IllegalStateException();
            }
            JCudaDriver.cuMemcpyHtoDAsync(d.ptr.withByteOffset((dstOffset + done) * eb), st.host, (long) n * eb, stream);
            JCudaDriver.cuEventRecord(st.done, stream);
            done += n;
        }
        d.storage = s;
    }

    /**
     * Raw bytes through the page-locked staging buffers into the buffer's bytes from {@code dstOffset}
     * (one byte per pixel); the buffer then holds {@link Storage#U8}, read only by {@link #convUint8}.
     */
    @Override public synchronized void uploadUint8(byte[] src, int srcOffset, Buffer dst, long dstOffset, int count) {
        requireNotCapturing("uploadUint8");
        CudaBuffer d = own(dst, "uploadUint8 destination");
        checkRange("uploadUint8", src.length, srcOffset, d, dstOffset, count);
        checkPixelUpload(d, dstOffset, count);
        bind();
        long done = 0;
        while (done < count) {
            Staging st = staging[nextStaging];
            nextStaging = (nextStaging + 1) % staging.length;
            JCudaDriver.cuEventSynchronize(st.done);   // the previous copy out of this buffer has finished
            int n = (int) Math.min(count - done, st.bytes.capacity());
            ByteBuffer bb = st.bytes;
            bb.clear();
            bb.put(src, srcOffset + (int) done, n);
            JCudaDriver.cuMemcpyHtoDAsync(d.ptr.withByteOffset(dstOffset + done), st.host, n, stream);
            JCudaDriver.cuEventRecord(st.done, stream);
            done += n;
        }
        d.storage = Storage.U8;
    }

    /** A partial pixel upload must not leave a buffer half fp32/16-bit values, half bytes. */
    private static void checkPixelUpload(CudaBuffer d, long dstOffset, int count) {
        boolean whole = dstOffset == 0 && count == d.elements();
        if (!whole && d.storage != Storage.EMPTY && d.storage != Storage.U8) {
            throw new IllegalArgumentException("uploadUint8 of part of a buffer holding " + d.storage + " would mix storages: upload the whole batch");
        }
    }

    @Override public synchronized void download(Buffer src, long srcOffset, float[] dst, int dstOffset, int count) {
        requireNotCapturing("download");
        CudaBuffer s = own(src, "download source");
        checkRange("download", dst.length, dstOffset, s, srcOffset, count);
        if (s.storage == Storage.EMPTY) throw new IllegalStateException("download of a buffer that nothing has written");
        if (s.storage == Storage.U8) throw new IllegalStateException("download of a buffer holding raw uint8 pixels: only convUint8 reads them");
        bind();
        int eb = s.storage.bytes;
        Staging st = staging[0];
        long done = 0;
        while (done < count) {
            int n = (int) Math.min(count - done, st.bytes.capacity() / eb);
            JCudaDriver.cuMemcpyDtoHAsync(st.host, s.ptr.withByteOffset((srcOffset + done) * eb), (long) n * eb, stream);
            JCudaDriver.cuStreamSynchronize(stream);
            ByteBuffer bb = st.bytes;
            int to = dstOffset + (int) done;
            switch (s.storage) {
                case F32 -> bb.asFloatBuffer().get(dst, to, n);
                case BF16 -> { for (int i = 0; i < n; i++) dst[to + i] = HalfFloats.fromBf16(bb.getShort(2 * i)); }
                case F16 -> { for (int i = 0; i < n; i++) dst[to + i] = HalfFloats.fromF16(bb.getShort(2 * i)); }
                case EMPTY, U8 -> throw new IllegalStateException();
            }
            done += n;
        }
    }

    private static void checkRange(String what, int hostLength, int hostOffset, CudaBuffer b, long devOffset, int count) {
        if (count < 0 || hostOffset < 0 || devOffset < 0 || hostOffset + (long) count > hostLength || devOffset + count > b.elements()) {
            throw new IndexOutOfBoundsException(what + " of " + count + " values: host array " + hostLength + " from " + hostOffset
                    + ", device buffer " + b.elements() + " from " + devOffset);
        }
    }

    @Override public synchronized void synchronize() {
        requireNotCapturing("synchronize");
        bind();
        JCudaDriver.cuStreamSynchronize(stream);
    }

    /**
     * Sets every byte of {@code b} to 0xFF: NaN in fp32, bf16 and fp16 alike, so an output element a
     * kernel forgets to write shows up whatever the storage. The buffer's storage tag is unchanged.
     */
    public synchronized void fillNaN(Buffer b) {
        requireNotCapturing("fillNaN");
        CudaBuffer cb = own(b, "fillNaN target");
        bind();
        JCudaDriver.cuMemsetD8Async(cb.ptr, (byte) 0xff, cb.capacityBytes(), stream);
    }

    // ------------------------------------------------------------------ CUDA graphs

    /** Starts recording launches on this backend's stream instead of running them. */
    public synchronized void beginCapture() {
        requireNotCapturing("beginCapture");
        bind();
        JCudaDriver.cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_RELAXED);
        capturing = true;
        capturedLaunches = 0;
    }

    /** Ends the recording and instantiates it; the launches have not run yet. */
    public synchronized CudaGraph endCapture() {
        if (!capturing) throw new IllegalStateException("endCapture without beginCapture");
        bind();
        CUgraph graph = new CUgraph();
        capturing = false;
        JCudaDriver.cuStreamEndCapture(stream, graph);
        CUgraphExec exec = new CUgraphExec();
        try {
            JCudaDriver.cuGraphInstantiate(exec, graph, 0);
        } catch (CudaException e) {
            JCudaDriver.cuGraphDestroy(graph);
            throw e;
        }
        CudaGraph g = new CudaGraph(this, graph, exec, capturedLaunches);
        graphs.add(g);
        return g;
    }

    /** Enqueues every launch of {@code graph} once, in the captured order. */
    public synchronized void replay(CudaGraph graph) {
        requireNotCapturing("replay");
        if (graph.owner() != this || graph.isClosed()) throw new IllegalArgumentException("graph is closed or from another backend");
        bind();
        JCudaDriver.cuGraphLaunch(graph.exec, stream);
        launches++;
    }

    public synchronized boolean isCapturing() { return capturing; }

    /** {@link LaunchRecording}: captures {@code enqueue}'s launches as a CUDA graph (see {@link #beginCapture()}). */
    @Override public synchronized CudaGraph record(Runnable enqueue) {
        beginCapture();
        try {
            enqueue.run();
        } catch (RuntimeException | Error e) {
            try {
                endCapture().close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);   // an invalidated capture cannot be instantiated; it is abandoned either way
            }
            throw e;
        }
        return endCapture();
    }

    // ------------------------------------------------------------------ overlapped transfers

    private CudaAsyncTransfers transfers() {
        if (transfers == null) transfers = new CudaAsyncTransfers(this, stream);
        return transfers;
    }

    @Override public synchronized Fence fence() {
        requireNotCapturing("fence");
        bind();
        return transfers().fence();
    }

    @Override public synchronized void uploadAsync(float[] src, int srcOffset, Buffer dst, long dstOffset, int count, Fence after) {
        requireNotCapturing("uploadAsync");
        CudaBuffer d = own(dst, "upload destination");
        if (d.compact != null) {
            throw new IllegalArgumentException("uploadAsync writes fp32: the destination is a 2-byte " + d.compact + " activation buffer (allocateActivations)");
        }
        checkRange("upload", src.length, srcOffset, d, dstOffset, count);
        boolean whole = dstOffset == 0 && count == d.elements();
        if (!whole && d.storage != Storage.EMPTY && d.storage != Storage.F32) {
            throw new IllegalArgumentException("uploadAsync writes fp32: a partial upload into a buffer holding " + d.storage + " would mix storages");
        }
        CudaAsyncTransfers.CudaFence f = fenceOf(after);
        bind();
        transfers().upload(src, srcOffset, d, dstOffset, count, f);
        d.storage = Storage.F32;
    }

    @Override public synchronized void uploadUint8Async(byte[] src, int srcOffset, Buffer dst, long dstOffset, int count, Fence after) {
        requireNotCapturing("uploadUint8Async");
        CudaBuffer d = own(dst, "uploadUint8 destination");
        checkRange("uploadUint8", src.length, srcOffset, d, dstOffset, count);
        checkPixelUpload(d, dstOffset, count);
        CudaAsyncTransfers.CudaFence f = fenceOf(after);
        bind();
        transfers().uploadBytes(src, srcOffset, d, dstOffset, count, f);
        d.storage = Storage.U8;
    }

    private CudaAsyncTransfers.CudaFence fenceOf(Fence after) {
        if (after == null) return null;
        if (!(after instanceof CudaAsyncTransfers.CudaFence cf) || cf.owner() != transfers || cf.isClosed()) {
            throw new IllegalArgumentException("fence is closed or from another backend");
        }
        return cf;
    }

    @Override public synchronized PendingDownload downloadAsync(Buffer src, long srcOffset, int count) {
        requireNotCapturing("downloadAsync");
        CudaBuffer s = own(src, "download source");
        if (count < 0 || srcOffset < 0 || srcOffset + count > s.elements()) {
            throw new IndexOutOfBoundsException("download of " + count + " values from a device buffer of " + s.elements() + " from " + srcOffset);
        }
        if (s.storage == Storage.EMPTY) throw new IllegalStateException("download of a buffer that nothing has written");
        if (s.storage == Storage.U8) throw new IllegalStateException("download of a buffer holding raw uint8 pixels: only convUint8 reads them");
        bind();
        return transfers().download(s, srcOffset, count);
    }

    private void requireNotCapturing(String what) {
        if (capturing) throw new IllegalStateException(what + " is not allowed while a CUDA graph is being captured");
    }

    // ------------------------------------------------------------------ timing

    /** A pair of CUDA events around enqueued work; {@link #elapsedMillis} waits for the end. */
    public final class Timer implements AutoCloseable {
        private final CUevent start = new CUevent(), stop = new CUevent();

        private Timer() {
            JCudaDriver.cuEventCreate(start, 0);
            JCudaDriver.cuEventCreate(stop, 0);
            JCudaDriver.cuEventRecord(start, stream);
        }

        /** Records the end (first call only) and returns milliseconds between the two events. */
        public float elapsedMillis() {
            bind();
            JCudaDriver.cuEventRecord(stop, stream);
            JCudaDriver.cuEventSynchronize(stop);
            float[] ms = new float[1];
            JCudaDriver.cuEventElapsedTime(ms, start, stop);
            return ms[0];
        }

        @Override public void close() {
            JCudaDriver.cuEventDestroy(start);
            JCudaDriver.cuEventDestroy(stop);
        }
    }

    @Override public synchronized double elapsedSeconds(Runnable enqueue) {
        try (Timer t = startTimer()) {
            enqueue.run();
            return t.elapsedMillis() / 1e3;
        }
    }

    @Override public synchronized String eventKind() { return "CUDA events"; }

    /** Starts a CUDA-event timer on this backend's stream. */
    public synchronized Timer startTimer() {
        requireNotCapturing("startTimer");
        bind();
        return new Timer();
    }

    // ------------------------------------------------------------------ forward ops

    @Override public synchronized void conv(ConvSpec spec, Buffer x, Buffer w1, Buffer w2, Epilogue epilogue, Buffer y) {
        Op op = new Op("conv " + spec.kind());
        op.act("x", x, spec.inputElements());
        op.param("w1", w1, spec.w1Elements());
        if (spec.kind() == ConvKind.SEPARABLE3X3_SAME) op.param("w2", w2, spec.w2Elements());
        else if (w2 != null) throw new IllegalArgumentException(spec.kind() + " takes no w2");
        if (epilogue.scale() != null) {
            op.param("scale", epilogue.scale(), spec.cout());
            op.param("shift", epilogue.shift(), spec.cout());
        }
        if (epilogue.residual() != null) op.act("residual", epilogue.residual(), spec.outputElements());
        op.out("y", y, spec.outputElements(), actStorage);
        op.run(sepconv.applies(spec, precision) ? SeparableGemmPath.plan(spec, precision, limits, epilogue.relu(), sepconv)
                : sepconv.fusedWgmma(spec, precision) ? HopperSeparableConv.plan(spec, precision, limits, epilogue.relu())
                : stemPath.conv(spec, precision, limits, epilogue.relu()));
    }

    /**
     * The first conv over raw pixels: {@code stem_cin3_u8_<storage>} preprocesses them on load (one
     * launch, one byte read per pixel) where {@link StemConvPath#convUint8} covers the spec (Xception's
     * block1_conv1 from width 1/4 up); otherwise {@code convert_u8_to_<storage>} preprocesses into
     * scratch and the stem's usual plan runs. Both equal {@link #conv} over the preprocessed float input bit for bit.
     */
    @Override public synchronized void convUint8(ConvSpec spec, Buffer pixels, Buffer w1, Epilogue epilogue, Buffer y) {
        KernelBackend.checkUint8Spec(spec);
        OpPlan fused = stemPath.convUint8(spec, precision, limits, epilogue.relu());
        Op op = new Op("convUint8 " + spec.kind());
        op.pixels("x", pixels, spec.inputElements(), fused != null ? Storage.U8 : actStorage);
        op.param("w1", w1, spec.w1Elements());
        if (epilogue.scale() != null) {
            op.param("scale", epilogue.scale(), spec.cout());
            op.param("shift", epilogue.shift(), spec.cout());
        }
        if (epilogue.residual() != null) op.act("residual", epilogue.residual(), spec.outputElements());
        op.out("y", y, spec.outputElements(), actStorage);
        op.run(fused != null ? fused : stemPath.conv(spec, precision, limits, epilogue.relu()));
    }

    @Override public synchronized void batchNormTrain(BatchNormSpec spec, Buffer z, Buffer gamma, Buffer beta, Buffer residual, Buffer y, Buffer mean,
                                         Buffer invStd, Buffer movingMean, Buffer movingVar) {
        Op op = new Op("batchNormTrain");
        int c = spec.channels();
        op.act("z", z, spec.elements());
        op.param("gamma", gamma, c);
        op.param("beta", beta, c);
        if (spec.residual()) op.act("residual", requireNonNull(residual, "residual"), spec.elements());
        op.out("y", y, spec.elements(), actStorage);
        op.out("mean", mean, c, Storage.F32);
        op.out("invStd", invStd, c, Storage.F32);
        op.inout("movingMean", movingMean, c, Storage.F32);
        op.inout("movingVar", movingVar, c, Storage.F32);
        op.run(CudaLaunchPlan.batchNormTrain(spec, precision, limits));
    }

    @Override public synchronized void maxPoolAdd(PoolSpec spec, Buffer x, Buffer residual, Buffer y) {
        Op op = new Op("maxPoolAdd");
        op.act("x", x, spec.inputElements());
        if (residual != null) op.act("residual", residual, spec.outputElements());
        op.out("y", y, spec.outputElements(), actStorage);
        op.run(CudaLaunchPlan.maxPoolAdd(spec, precision, limits));
    }

    @Override public synchronized void head(HeadSpec spec, Buffer x, Buffer kernel, Buffer bias, Buffer y) {
        Op op = new Op("head");
        op.act("x", x, (long) spec.n() * spec.h() * spec.w() * spec.channels());
        if (spec.dense()) {
            op.param("kernel", kernel, (long) spec.channels() * spec.classes());
            if (bias != null) op.param("bias", bias, spec.classes());
        }
        op.out("y", y, spec.outputElements(), Storage.F32);
        op.run(CudaLaunchPlan.head(spec, precision, limits));
    }

    // ------------------------------------------------------------------ training ops

    @Override public synchronized void headTrain(HeadSpec spec, Buffer x, Buffer kernel, Buffer bias, Buffer labels, Buffer probs, Buffer loss, Buffer dX,
                                    Buffer dKernel, Buffer dBias, float lossScale) {
        if (!(lossScale > 0) || Float.isInfinite(lossScale)) throw new IllegalArgumentException("headTrain: loss scale must be positive and finite, got " + lossScale);
        Op op = new Op("headTrain");
        long xe = (long) spec.n() * spec.h() * spec.w() * spec.channels();
        long ke = (long) spec.channels() * spec.classes();
        op.act("x", x, xe);
        op.param("kernel", kernel, ke);
        if (bias != null) op.param("bias", bias, spec.classes());
        op.param("labels", labels, spec.n());
        op.out("probs", probs, (long) spec.n() * spec.classes(), Storage.F32);
        op.out("loss", loss, spec.n(), Storage.F32);
        op.out("dX", dX, xe, actStorage);
        op.out("dKernel", dKernel, ke, Storage.F32);
        if (dBias != null) op.out("dBias", dBias, spec.classes(), Storage.F32);
        op.run(CudaLaunchPlan.headTrain(spec, precision, limits, lossScale));
    }

    @Override public synchronized void batchNormTrainBackward(BatchNormSpec spec, Buffer z, Buffer y, Buffer dy, Buffer gamma, Buffer mean, Buffer invStd,
                                                 Buffer dz, Buffer dyMasked, Buffer dGamma, Buffer dBeta) {
        Op op = new Op("batchNormTrainBackward");
        int c = spec.channels();
        long e = spec.elements();
        op.act("z", z, e);
        op.act("y", y, e);
        op.act("dy", dy, e);
        op.param("gamma", gamma, c);
        op.param("mean", mean, c);
        op.param("invStd", invStd, c);
        op.out("dz", dz, e, actStorage);
        if (dyMasked != null) op.out("dyMasked", dyMasked, e, actStorage);
        op.out("dGamma", dGamma, c, Storage.F32);
        op.out("dBeta", dBeta, c, Storage.F32);
        op.run(CudaLaunchPlan.batchNormTrainBackward(spec, precision, limits));
    }

    // ------------------------------------------------------------------ batch norm split for statistics over several processes

    /** (c) fp32 device vectors that carry the split batch norm's per-channel values to and from the host, grown as needed. */
    private final Buffer[] channelVectors = new Buffer[2];

    private Buffer channelVector(int which, int c) {
        Buffer b = channelVectors[which];
        if (b == null || b.elements() < c) {
            if (b != null) b.close();
            b = allocate(c);
            channelVectors[which] = b;
        }
        return b;
    }

    private void uploadChannels(String op, String what, double[] values, int c, Buffer dst) {
        if (values == null) throw new IllegalArgumentException(op + ": " + what + " is null");
        if (values.length < c) throw new IllegalArgumentException(op + ": " + what + " holds " + values.length + " values, the spec has " + c + " channels");
        float[] f = new float[c];
        for (int ch = 0; ch < c; ch++) f[ch] = (float) values[ch];
        upload(f, 0, dst, 0, c);
    }

    private void downloadChannels(String op, String what, Buffer src, double[] values, int c) {
        if (values == null) throw new IllegalArgumentException(op + ": " + what + " is null");
        if (values.length < c) throw new IllegalArgumentException(op + ": " + what + " holds " + values.length + " values, the spec has " + c + " channels");
        float[] f = new float[c];
        download(src, 0, f, 0, c);
        for (int ch = 0; ch < c; ch++) values[ch] = f[ch];
    }

    @Override public synchronized void batchNormSums(BatchNormSpec spec, Buffer z, double[] mean, double[] sums) {
        requireNotCapturing("batchNormSums");
        int c = spec.channels();
        Buffer out = channelVector(0, c);
        Op op = new Op("batchNormSums");
        op.act("z", z, spec.elements());
        if (mean != null) {
            Buffer m = channelVector(1, c);
            uploadChannels("batchNormSums", "mean", mean, c, m);
            op.param("mean", m, c);
        }
        op.out("sums", out, c, Storage.F32);
        op.run(CudaLaunchPlan.batchNormSums(spec, mean != null, precision, limits));
        downloadChannels("batchNormSums", "sums", out, sums, c);
    }

    @Override public synchronized void batchNormApply(BatchNormSpec spec, Buffer z, double[] mean, double[] variance, Buffer gamma, Buffer beta, Buffer residual,
                                         Buffer y, Buffer meanOut, Buffer invStdOut, Buffer movingMean, Buffer movingVar) {
        requireNotCapturing("batchNormApply");
        int c = spec.channels();
        if (variance == null || variance.length < c) throw new IllegalArgumentException("batchNormApply: variance holds fewer than " + c + " values");
        double[] invStd = new double[c];
        for (int ch = 0; ch < c; ch++) invStd[ch] = 1.0 / Math.sqrt(variance[ch] + spec.epsilon());
        Buffer v = channelVector(1, c);
        uploadChannels("batchNormApply", "mean", mean, c, own(meanOut, "batchNormApply meanOut"));
        uploadChannels("batchNormApply", "invStd", invStd, c, own(invStdOut, "batchNormApply invStdOut"));
        uploadChannels("batchNormApply", "variance", variance, c, v);
        Op op = new Op("batchNormApply");
        op.param("mean", meanOut, c);
        op.param("variance", v, c);
        op.param("invStd", invStdOut, c);
        op.inout("movingMean", movingMean, c, Storage.F32);
        op.inout("movingVar", movingVar, c, Storage.F32);
        op.act("z", z, spec.elements());
        op.param("gamma", gamma, c);
        op.param("beta", beta, c);
        if (spec.residual()) op.act("residual", requireNonNull(residual, "residual"), spec.elements());
        op.out("y", y, spec.elements(), actStorage);
        op.run(CudaLaunchPlan.batchNormApply(spec, precision, limits));
    }

    @Override public synchronized void batchNormBackwardSums(BatchNormSpec spec, Buffer z, Buffer y, Buffer dy, Buffer mean, Buffer invStd, double[] dGamma, double[] dBeta) {
        requireNotCapturing("batchNormBackwardSums");
        int c = spec.channels();
        long e = spec.elements();
        Buffer g = channelVector(0, c), b = channelVector(1, c);
        Op op = new Op("batchNormBackwardSums");
        op.act("z", z, e);
        op.act("y", y, e);
        op.act("dy", dy, e);
        op.param("mean", mean, c);
        op.param("invStd", invStd, c);
        op.out("dGamma", g, c, Storage.F32);
        op.out("dBeta", b, c, Storage.F32);
        op.run(CudaLaunchPlan.batchNormBackwardSums(spec, precision, limits));
        downloadChannels("batchNormBackwardSums", "dGamma", g, dGamma, c);
        downloadChannels("batchNormBackwardSums", "dBeta", b, dBeta, c);
    }

    @Override public synchronized void batchNormBackwardApply(BatchNormSpec spec, long statisticsRows, Buffer z, Buffer y, Buffer dy, Buffer gamma, Buffer mean,
                                                 Buffer invStd, double[] dGammaSum, double[] dBetaSum, Buffer dz, Buffer dyMasked, Buffer dGamma, Buffer dBeta) {
        requireNotCapturing("batchNormBackwardApply");
        int c = spec.channels();
        long e = spec.elements();
        uploadChannels("batchNormBackwardApply", "dGammaSum", dGammaSum, c, own(dGamma, "batchNormBackwardApply dGamma"));
        uploadChannels("batchNormBackwardApply", "dBetaSum", dBetaSum, c, own(dBeta, "batchNormBackwardApply dBeta"));
        Op op = new Op("batchNormBackwardApply");
        op.act("z", z, e);
        op.act("y", y, e);
        op.act("dy", dy, e);
        op.param("gamma", gamma, c);
        op.param("mean", mean, c);
        op.param("invStd", invStd, c);
        op.param("dGamma", dGamma, c);
        op.param("dBeta", dBeta, c);
        op.out("dz", dz, e, actStorage);
        if (dyMasked != null) op.out("dyMasked", dyMasked, e, actStorage);
        op.run(CudaLaunchPlan.batchNormBackwardApply(spec, statisticsRows, precision, limits));
    }

    @Override public synchronized void convBackward(ConvSpec spec, Buffer x, Buffer w1, Buffer w2, Buffer dz, Buffer dx, Buffer dw1, Buffer dw2) {
        Op op = new Op("convBackward " + spec.kind());
        boolean sep = spec.kind() == ConvKind.SEPARABLE3X3_SAME;
        op.act("x", x, spec.inputElements());
        op.param("w1", w1, spec.w1Elements());
        if (sep) op.param("w2", w2, spec.w2Elements());
        op.act("dz", dz, spec.outputElements());
        if (dx != null) op.out("dx", dx, spec.inputElements(), actStorage);
        op.out("dw1", dw1, spec.w1Elements(), Storage.F32);
        if (sep) op.out("dw2", dw2, spec.w2Elements(), Storage.F32);
        op.run(pwbwd.applies(spec, precision, limits)
                ? PointwiseBackwardPath.plan(spec, precision, limits,
                        residentBlocksPerSm("pwbwd_wgrad_" + CudaLaunchPlan.storageSuffix(precision), PointwiseBackwardPath.WGRAD_SHARED_BYTES), dx != null, pwbwd)
                : CudaLaunchPlan.convBackward(spec, precision, limits, dx != null));
    }

    @Override public synchronized void maxPoolBackward(PoolSpec spec, Buffer x, Buffer dy, Buffer dx) {
        Op op = new Op("maxPoolBackward");
        op.act("x", x, spec.inputElements());
        op.act("dy", dy, spec.outputElements());
        op.out("dx", dx, spec.inputElements(), actStorage);
        op.run(CudaLaunchPlan.maxPoolBackward(spec, precision, limits));
    }

    @Override public synchronized void addInPlace(Buffer dst, Buffer src, long count) {
        CudaBuffer d = own(dst, "addInPlace dst");
        if (d.storage == Storage.EMPTY) throw new IllegalStateException("addInPlace into a buffer that nothing has written");
        Op op = new Op("addInPlace");
        Storage s = d.storage;
        op.inout("dst", dst, count, s);
        op.input("src", src, count, s);
        op.run(CudaLaunchPlan.addInPlace(count, s.suffix, limits));
    }

    @Override public synchronized void sgdUpdate(Buffer param, Buffer grad, Buffer velocity, long count, float lr, float momentum, float weightDecay) {
        Op op = new Op("sgdUpdate");
        op.inout("param", param, count, Storage.F32);
        op.input("grad", grad, count, Storage.F32);
        op.inout("velocity", velocity, count, Storage.F32);
        op.run(CudaLaunchPlan.sgdUpdate(count, lr, momentum, weightDecay, limits));
    }

    @Override public synchronized void unscaleGradient(Buffer grad, long count, float factor, Buffer overflow) {
        Op op = new Op("unscaleGradient");
        op.inout("grad", grad, count, Storage.F32);
        op.inout("overflow", overflow, 1, Storage.F32);
        op.run(CudaLaunchPlan.unscaleGradient(count, factor, limits));
    }

    /**
     * One launch for the whole SGD step and one for the whole unscale ({@link CudaWeightUpdate}): the
     * plan's table of device addresses is uploaded now, so this is not allowed while capturing.
     */
    @Override public synchronized WeightUpdate weightUpdate(List<WeightUpdate.Weight> weights) {
        requireNotCapturing("weightUpdate (it uploads its table)");
        bind();
        return new CudaWeightUpdate(this, weights);
    }

    /** Copies {@code bytes} (from position 0 to its limit) into {@code dst}'s first bytes and waits: a table later launches read. */
    synchronized void uploadBytes(ByteBuffer bytes, CudaBuffer dst) {
        requireNotCapturing("uploadBytes");
        CudaBuffer d = own(dst, "uploadBytes destination");
        long n = bytes.limit();
        if (n > d.capacityBytes()) throw new IllegalArgumentException("uploadBytes of " + n + " bytes into " + d.capacityBytes());
        bind();
        ByteBuffer direct = ByteBuffer.allocateDirect(Math.toIntExact(n)).order(bytes.order());
        direct.put(bytes.duplicate().position(0)).position(0);
        JCudaDriver.cuMemcpyHtoDAsync(d.ptr, Pointer.to(direct), n, stream);   // pageable: staged before the call returns
        JCudaDriver.cuStreamSynchronize(stream);
    }

    /**
     * Runs {@code plan} with its pointer operands bound to device tables ({@code tables}, by operand name)
     * and, when not null, {@code overflow}: a 1-value fp32 flag updated in place (CudaWeightUpdate).
     */
    synchronized void runWithTables(String what, OpPlan plan, Map<String, CUdeviceptr> tables, Buffer overflow) {
        Op op = new Op(what);
        tables.forEach(op::table);
        if (overflow != null) op.inout("overflow", overflow, 1, Storage.F32);
        op.run(plan);
    }

    private static Buffer requireNonNull(Buffer b, String role) {
        if (b == null) throw new IllegalArgumentException(role + " is required by the spec but null");
        return b;
    }

    // ------------------------------------------------------------------ op execution

    /**
     * Binds one op's operands: checks ownership and sizes, schedules fp32 → activation (or 16-bit →
     * fp32) conversions into scratch for inputs stored in another type, then sizes the scratch,
     * enqueues conversions and launches, and marks the outputs' storage.
     */
    private final class Op {
        private final String what;
        private final Map<String, CUdeviceptr> ptrs = new HashMap<>();
        private final Map<String, CudaBuffer> conversions = new LinkedHashMap<>();
        private final Map<String, Storage> conversionTarget = new HashMap<>();
        private final Map<String, Long> conversionElements = new HashMap<>();
        private final Map<CudaBuffer, Storage> outputs = new IdentityHashMap<>();

        Op(String what) {
            this.what = what;
        }

        /** A device table the backend owns (not a buffer operand): bound as it is. */
        void table(String name, CUdeviceptr p) { ptrs.put(name, p); }

        void act(String name, Buffer b, long elements) { input(name, b, elements, actStorage); }

        void param(String name, Buffer b, long elements) { input(name, b, elements, Storage.F32); }

        void input(String name, Buffer b, long elements, Storage want) {
            CudaBuffer cb = sized(name, b, elements);
            if (cb.storage == Storage.U8) {
                throw new IllegalStateException(what + ": " + name + " holds raw uint8 pixels (uploadUint8); only convUint8 reads them");
            }
            bindInput(name, cb, elements, want);
        }

        /**
         * Raw pixels (a {@link Storage#U8} buffer): bound as they are when {@code want} is U8 (a kernel
         * that preprocesses on load), else preprocessed into scratch by convert_u8_to_&lt;want&gt;.
         */
        void pixels(String name, Buffer b, long elements, Storage want) {
            CudaBuffer cb = sized(name, b, elements);
            if (cb.storage != Storage.U8) throw new IllegalStateException(what + ": " + name + " must hold raw uint8 pixels (uploadUint8), holds " + cb.storage);
            bindInput(name, cb, elements, want);
        }

        private void bindInput(String name, CudaBuffer cb, long elements, Storage want) {
            if (cb.storage == Storage.EMPTY) throw new IllegalStateException(what + ": " + name + " is read but nothing has written it");
            if (cb.storage == want) {
                ptrs.put(name, cb.ptr);
            } else {
                conversions.put(name, cb);
                conversionTarget.put(name, want);
                conversionElements.put(name, elements);
            }
        }

        void inout(String name, Buffer b, long elements, Storage want) {
            CudaBuffer cb = sized(name, b, elements);
            if (cb.storage != want) {
                throw new IllegalStateException(what + ": " + name + " is updated in place and must hold " + want + ", but holds " + cb.storage
                        + (cb.storage == Storage.EMPTY ? " (upload its initial values first)" : ""));
            }
            requireHolds(name, cb, want);
            ptrs.put(name, cb.ptr);
            outputs.put(cb, want);
        }

        void out(String name, Buffer b, long elements, Storage storage) {
            CudaBuffer cb = sized(name, b, elements);
            requireHolds(name, cb, storage);
            ptrs.put(name, cb.ptr);
            outputs.put(cb, storage);
        }

        /** A kernel must not write a storage wider than a compact (2-byte) activation buffer holds. */
        private void requireHolds(String name, CudaBuffer cb, Storage storage) {
            if (!cb.holds(storage)) {
                throw new IllegalArgumentException(what + ": " + name + " is a 2-byte " + cb.compact + " activation buffer (allocateActivations) and cannot take "
                        + storage + " output: allocate it with allocate()");
            }
        }

        private CudaBuffer sized(String name, Buffer b, long elements) {
            if (b == null) throw new IllegalArgumentException(what + ": " + name + " is null");
            CudaBuffer cb = own(b, what + " " + name);
            if (cb.elements() < elements) {
                throw new IllegalArgumentException(what + ": " + name + " holds " + cb.elements() + " elements, the op needs " + elements);
            }
            return cb;
        }

        void run(OpPlan plan) {
            bind();
            // scratch layout: conversions, then the plan's regions, each 256-byte aligned
            Map<String, Long> offsets = new LinkedHashMap<>();
            long total = 0;
            for (Map.Entry<String, CudaBuffer> e : conversions.entrySet()) {
                offsets.put("cvt:" + e.getKey(), total);
                total += align(conversionElements.get(e.getKey()) * conversionTarget.get(e.getKey()).bytes);
            }
            for (Map.Entry<String, Long> e : plan.scratchBytes().entrySet()) {
                offsets.put(e.getKey(), total);
                total += align(e.getValue());
            }
            ensureScratch(total);
            for (Map.Entry<String, Long> e : offsets.entrySet()) {
                if (e.getKey().startsWith("scratch:")) ptrs.put(e.getKey(), scratch.withByteOffset(e.getValue()));
            }
            for (Map.Entry<String, CudaBuffer> e : conversions.entrySet()) {
                CudaBuffer src = e.getValue();
                Storage to = conversionTarget.get(e.getKey());
                CUdeviceptr dst = scratch.withByteOffset(offsets.get("cvt:" + e.getKey()));
                Launch l = CudaLaunchPlan.convert(src.storage.suffix, to.suffix, conversionElements.get(e.getKey()), limits);
                launch(l, Map.of("src", src.ptr, "dst", dst));
                ptrs.put(e.getKey(), dst);
            }
            for (Launch l : plan.launches()) launch(l, ptrs);
            for (Map.Entry<CudaBuffer, Storage> e : outputs.entrySet()) e.getKey().storage = e.getValue();
        }

        private void launch(Launch l, Map<String, CUdeviceptr> bound) {
            CUfunction f = function(l.kernel());
            Pointer[] params = new Pointer[l.args().size()];
            for (int i = 0; i < params.length; i++) {
                Arg a = l.args().get(i);
                if (a instanceof CudaLaunchPlan.Ptr p) {
                    CUdeviceptr d = bound.get(p.name());
                    if (d == null && !p.optional()) throw new IllegalStateException(what + ": kernel " + l.kernel() + " needs operand " + p.name());
                    params[i] = Pointer.to(d == null ? new CUdeviceptr() : d);
                } else if (a instanceof CudaLaunchPlan.I32 v) {
                    params[i] = Pointer.to(new int[]{v.value()});
                } else if (a instanceof CudaLaunchPlan.I64 v) {
                    params[i] = Pointer.to(new long[]{v.value()});
                } else if (a instanceof CudaLaunchPlan.F32 v) {
                    params[i] = Pointer.to(new float[]{v.value()});
                } else if (a instanceof CudaLaunchPlan.TensorMap m) {
                    params[i] = Pointer.to(tensorMap(l, m, bound.get(m.operand())));
                } else {
                    throw new IllegalStateException("unknown argument " + a);
                }
            }
            allowSharedBytes(l.kernel(), f, l.sharedBytes());
            try {
                JCudaDriver.cuLaunchKernel(f, l.gridX(), l.gridY(), l.gridZ(), l.blockX(), 1, 1, l.sharedBytes(), stream, Pointer.to(params), null);
                if (options.syncEachLaunch() && !capturing) JCudaDriver.cuStreamSynchronize(stream);
            } catch (CudaException e) {
                throw new IllegalStateException(what + ": kernel " + l.kernel() + " grid " + l.gridX() + "x" + l.gridY() + "x" + l.gridZ()
                        + " shared " + l.sharedBytes() + " B failed: " + e.getMessage(), e);
            }
            launches++;
            if (capturing) capturedLaunches++;
        }
    }

    private static long align(long bytes) { return (bytes + 255) / 256 * 256; }

    /** The encoded CUtensorMap (128 bytes) of {@code m} over the operand bound to {@code operand}. */
    private byte[] tensorMap(Launch l, CudaLaunchPlan.TensorMap m, CUdeviceptr operand) {
        if (tensorMaps == null) throw new IllegalStateException("kernel " + l.kernel() + " takes a tensor map, but this backend was opened without cuda.pointwise=wgmma or cuda.pwbwd=wgmma");
        if (operand == null) throw new IllegalStateException("kernel " + l.kernel() + ": tensor map " + m.name() + " needs operand " + m.operand());
        return tensorMaps.encode(m, DeviceAddress.of(operand));
    }

    /** Raises the kernel's dynamic shared memory limit to {@code bytes} where they exceed the default 48 KiB. */
    private void allowSharedBytes(String kernel, CUfunction f, int bytes) {
        if (bytes <= 48 * 1024) return;
        Integer set = sharedLimitSet.get(kernel);
        if (set == null || set < bytes) {
            JCudaDriver.cuFuncSetAttribute(f, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes);
            sharedLimitSet.put(kernel, bytes);
        }
    }

    /**
     * Blocks of {@code kernel} (256 threads, {@code sharedBytes} of dynamic shared memory) resident per SM,
     * from the driver's occupancy calculator, once per kernel: the planners' input where a split count
     * depends on how many blocks fill the card (PointwiseBackwardPath.wgradSplits). At least 1.
     */
    synchronized int residentBlocksPerSm(String kernel, int sharedBytes) {
        Integer known = residentBlocks.get(kernel);
        if (known != null) return known;
        bind();
        CUfunction f = function(kernel);
        allowSharedBytes(kernel, f, sharedBytes);
        int[] blocks = new int[1];
        JCudaDriver.cuOccupancyMaxActiveBlocksPerMultiprocessor(blocks, f, CudaLaunchPlan.THREADS, sharedBytes);
        int n = Math.max(1, blocks[0]);
        residentBlocks.put(kernel, n);
        return n;
    }

    private void ensureScratch(long bytes) {
        if (bytes <= scratchBytes) return;
        if (capturing) {
            throw new IllegalStateException("an op needs " + bytes + " bytes of scratch but only " + scratchBytes
                    + " exist while capturing a CUDA graph: run the same ops once before beginCapture()");
        }
        long size = Math.max(bytes, scratchBytes + scratchBytes / 2);
        if (scratch != null) {
            JCudaDriver.cuStreamSynchronize(stream);
            if (graphs.isEmpty()) JCudaDriver.cuMemFree(scratch);
            else retiredScratch.add(scratch);   // a recorded graph may replay into it
            scratch = null;
            scratchBytes = 0;
        }
        CUdeviceptr p = new CUdeviceptr();
        deviceAlloc(p, size, "scratch memory");
        scratch = p;
        scratchBytes = size;
    }

    private CUfunction function(String kernel) {
        CUfunction f = functions.get(kernel);
        if (f != null) return f;
        for (CUmodule m : modules) {
            CUfunction cand = new CUfunction();
            try {
                JCudaDriver.cuModuleGetFunction(cand, m, kernel);
                functions.put(kernel, cand);
                return cand;
            } catch (CudaException e) {
                // not in this module: try the next
            }
        }
        throw new IllegalStateException("kernel " + kernel + " is in none of the loaded CUDA modules: is the jar's io/jxception/cuda/ up to date?");
    }

    // ------------------------------------------------------------------ close

    @Override public synchronized void close() {
        if (closed) return;
        try {
            JCudaDriver.cuCtxSetCurrent(context);
            if (capturing) {
                capturing = false;
                try {
                    JCudaDriver.cuStreamEndCapture(stream, new CUgraph());
                } catch (CudaException ignored) {
                    // the capture is abandoned either way
                }
            }
            if (streamCreated) JCudaDriver.cuStreamSynchronize(stream);
            if (transfers != null) transfers.close();
            for (CudaGraph g : new ArrayList<>(graphs)) g.close();
            for (CudaBuffer b : new ArrayList<>(live)) b.close();
            if (scratch != null) JCudaDriver.cuMemFree(scratch);
            for (CUdeviceptr p : retiredScratch) JCudaDriver.cuMemFree(p);
            retiredScratch.clear();
            if (arena != null) JCudaDriver.cuMemFree(arenaBase);
            for (Staging s : staging) {
                if (s == null) continue;
                JCudaDriver.cuEventDestroy(s.done);
                JCudaDriver.cuMemFreeHost(s.host);
            }
            if (streamCreated) JCudaDriver.cuStreamDestroy(stream);
            for (CUmodule m : modules) JCudaDriver.cuModuleUnload(m);
        } finally {
            closed = true;
            scratch = null;
            JCudaDriver.cuDevicePrimaryCtxRelease(device);
        }
    }
}
