package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.OverlappedTransfers.Fence;
import io.jxception.internal.backend.OverlappedTransfers.PendingDownload;
import io.jxception.internal.backend.cuda.CudaBuffer.Storage;
import jcuda.Pointer;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * The copy stream of a {@link CudaBackend} and the page-locked memory of its overlapped transfers
 * ({@link io.jxception.internal.backend.OverlappedTransfers}). Uploads go through a ring of two staging
 * buffers, each as large as the largest upload so far, so the host fills one while the copy engine
 * drains the other; each upload ends with an event that the compute stream waits on. Downloads run
 * on the compute stream into pooled page-locked buffers. Created on first use; everything is freed
 * by {@link #close()}, which the backend's close() calls.
 */
final class CudaAsyncTransfers implements AutoCloseable {
    /** A page-locked buffer, the event after its last copy, and its capacity in bytes. */
    private static final class Pinned {
        final Pointer host = new Pointer();
        final ByteBuffer bytes;
        final CUevent done = new CUevent();
        final long capacity;

        Pinned(long capacity) {
            this.capacity = capacity;
            JCudaDriver.cuMemHostAlloc(host, capacity, 0);
            bytes = host.getByteBuffer(0, capacity).order(ByteOrder.nativeOrder());
            JCudaDriver.cuEventCreate(done, CUevent_flags.CU_EVENT_DISABLE_TIMING);
            JCudaDriver.cuEventRecord(done, null);
        }

        void free() {
            JCudaDriver.cuEventSynchronize(done);
            JCudaDriver.cuEventDestroy(done);
            JCudaDriver.cuMemFreeHost(host);
        }
    }

    private final CudaBackend owner;
    private final CUstream compute;
    private final CUstream copy = new CUstream();
    private final Pinned[] uploads = new Pinned[2];
    private int nextUpload;
    private final ArrayDeque<Pinned> freeDownloads = new ArrayDeque<>();
    private final Set<CudaFence> fences = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Set<Download> downloads = Collections.newSetFromMap(new IdentityHashMap<>());
    private long uploadedBytes;

    CudaAsyncTransfers(CudaBackend owner, CUstream compute) {
        this.owner = owner;
        this.compute = compute;
        JCudaDriver.cuStreamCreate(copy, CUstream_flags.CU_STREAM_NON_BLOCKING);
    }

    /** Bytes copied host→device through {@link #upload} so far. */
    long uploadedBytes() { return uploadedBytes; }

    /** An event recorded at the current end of the compute stream. */
    final class CudaFence implements Fence {
        final CUevent event = new CUevent();
        private boolean closed;

        CudaFence() {
            JCudaDriver.cuEventCreate(event, CUevent_flags.CU_EVENT_DISABLE_TIMING);
            JCudaDriver.cuEventRecord(event, compute);
            fences.add(this);
        }

        CudaAsyncTransfers owner() { return CudaAsyncTransfers.this; }

        boolean isClosed() { return closed; }

        @Override public void close() {
            synchronized (owner) { // the backend's lock guards fences and downloads: sessions on other threads share them
                if (closed) return;
                closed = true;
                fences.remove(this);
                owner.bind();
                JCudaDriver.cuEventDestroy(event);
            }
        }
    }

    CudaFence fence() { return new CudaFence(); }

    /** See OverlappedTransfers.uploadAsync; dst is already checked (range, owner) by the backend. */
    void upload(float[] src, int srcOffset, CudaBuffer dst, long dstOffset, int count, CudaFence after) {
        long bytes = 4L * count;
        Pinned p = uploads[nextUpload];
        if (p == null || p.capacity < bytes) {
            if (p != null) p.free();   // waits for its last copy
            uploads[nextUpload] = null;
            p = new Pinned(Math.max(bytes, 1));
            uploads[nextUpload] = p;
        } else {
            JCudaDriver.cuEventSynchronize(p.done);   // its last copy has left the staging memory
        }
        nextUpload = (nextUpload + 1) % uploads.length;
        p.bytes.clear();
        p.bytes.asFloatBuffer().put(src, srcOffset, count);
        if (after != null) JCudaDriver.cuStreamWaitEvent(copy, after.event, 0);
        JCudaDriver.cuMemcpyHtoDAsync(dst.ptr.withByteOffset(4 * dstOffset), p.host, bytes, copy);
        JCudaDriver.cuEventRecord(p.done, copy);
        JCudaDriver.cuStreamWaitEvent(compute, p.done, 0);   // later compute reads what this copy wrote
        uploadedBytes += bytes;
    }

    /** A copy device→page-locked memory on the compute stream. */
    final class Download implements PendingDownload {
        private final Pinned pinned;
        private final Storage storage;
        private final int count;
        private boolean closed;

        Download(CudaBuffer src, long srcOffset, int count) {
            this.storage = src.storage;
            this.count = count;
            long bytes = (long) storage.bytes * count;
            Pinned p = null;
            for (Pinned f : freeDownloads) if (f.capacity >= bytes) { p = f; break; }
            if (p != null) freeDownloads.remove(p);
            else p = new Pinned(Math.max(bytes, 1));
            this.pinned = p;
            JCudaDriver.cuMemcpyDtoHAsync(p.host, src.ptr.withByteOffset(storage.bytes * srcOffset), bytes, compute);
            JCudaDriver.cuEventRecord(p.done, compute);
            downloads.add(this);
        }

        @Override public int count() { return count; }

        @Override public void await(float[] dst, int dstOffset) {
            if (closed) throw new IllegalStateException("download was closed");
            if (dstOffset < 0 || dstOffset + (long) count > dst.length) {
                throw new IndexOutOfBoundsException("download of " + count + " values into an array of " + dst.length + " from " + dstOffset);
            }
            owner.bind();
            JCudaDriver.cuEventSynchronize(pinned.done);
            ByteBuffer bb = pinned.bytes;
            switch (storage) {
                case F32 -> bb.asFloatBuffer().get(0, dst, dstOffset, count);
                case BF16 -> { for (int i = 0; i < count; i++) dst[dstOffset + i] = HalfFloats.fromBf16(bb.getShort(2 * i)); }
                case F16 -> { for (int i = 0; i < count; i++) dst[dstOffset + i] = HalfFloats.fromF16(bb.getShort(2 * i)); }
                case EMPTY -> throw new IllegalStateException("download of a buffer that nothing has written");
            }
        }

        @Override public void close() {
            synchronized (owner) {
                if (closed) return;
                closed = true;
                downloads.remove(this);
                freeDownloads.add(pinned);   // the next download on the compute stream is ordered after this one's copy
            }
        }
    }

    Download download(CudaBuffer src, long srcOffset, int count) { return new Download(src, srcOffset, count); }

    @Override public void close() {
        JCudaDriver.cuStreamSynchronize(copy);
        for (Download d : downloads.toArray(new Download[0])) d.close();
        for (CudaFence f : fences.toArray(new CudaFence[0])) f.close();
        for (int i = 0; i < uploads.length; i++) {
            if (uploads[i] != null) uploads[i].free();
            uploads[i] = null;
        }
        for (Pinned p : freeDownloads) p.free();
        freeDownloads.clear();
        JCudaDriver.cuStreamDestroy(copy);
    }
}
