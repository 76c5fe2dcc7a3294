package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.WeightUpdate;
import io.jxception.internal.backend.cuda.CudaBuffer.Storage;
import jcuda.driver.CUdeviceptr;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@link WeightUpdate} on CUDA: the whole SGD step in one launch of {@code sgd_update_multi_f32} and the
 * whole unscale in one launch of {@code unscale_gradient_multi_f32}, bit for bit the per-tensor kernels'
 * results. The {@link MultiTensorPlan} table (every weight's device addresses and the chunk lists) is
 * uploaded once, at construction, into one buffer of the backend; {@link #sgd} and {@link #unscale}
 * neither allocate nor synchronize, so they can be recorded into CUDA graphs. A recorded graph keeps
 * reading the table: close this after the graphs that replay it.
 *
 * <p>Every call checks that the weights' buffers are still open and hold fp32 (params, velocities and
 * gradients: the kernels read nothing else, and no conversion is made); the addresses in the table are
 * those the buffers had when the plan was made. Thread-safety as the backend's: every call holds its lock.
 */
final class CudaWeightUpdate implements WeightUpdate {
    private final CudaBackend backend;
    private final List<Weight> weights;
    private final MultiTensorPlan plan;
    private final CudaBuffer table;   // the plan's table, or null without weights
    private boolean closed;

    /** Plans and uploads the table; the caller holds the backend's lock, outside any capture. */
    CudaWeightUpdate(CudaBackend backend, List<Weight> weights) {
        this.backend = backend;
        this.weights = List.copyOf(weights);
        List<MultiTensorPlan.Entry> entries = new ArrayList<>(this.weights.size());
        for (int i = 0; i < this.weights.size(); i++) {
            Weight w = this.weights.get(i);
            long velocity = w.stepped() ? address(w.velocity(), i, "velocity") : 0;
            entries.add(new MultiTensorPlan.Entry(address(w.param(), i, "param"), address(w.grad(), i, "grad"), velocity, w.count(), w.decays()));
        }
        this.plan = MultiTensorPlan.of(entries);
        if (plan.tableBytes() == 0) {
            this.table = null;
        } else {
            CudaBuffer t = (CudaBuffer) backend.allocate(plan.tableBytes() / 4);
            try {
                backend.uploadBytes(plan.table(), t);
            } catch (RuntimeException e) {
                t.close();
                throw e;
            }
            this.table = t;
        }
    }

    private long address(Buffer b, int weight, String role) {
        return DeviceAddress.of(backend.own(b, "weightUpdate: weight " + weight + " " + role).ptr);
    }

    /** The plan (tests). */
    MultiTensorPlan plan() { return plan; }

    @Override public List<Weight> weights() { return weights; }

    @Override public void sgd(float lr, float momentum, float weightDecay) {
        synchronized (backend) {
            checkOpen("sgd");
            for (int i = 0; i < weights.size(); i++) {
                Weight w = weights.get(i);
                if (!w.stepped()) continue;
                requireF32("sgd", w.param(), i, "param");
                requireF32("sgd", w.grad(), i, "grad");
                requireF32("sgd", w.velocity(), i, "velocity");
            }
            CudaLaunchPlan.OpPlan p = plan.sgd(lr, momentum, weightDecay);
            if (p.launches().isEmpty()) return;
            backend.runWithTables("weightUpdate sgd", p, tables(plan.sgdChunksOffset()), null);
        }
    }

    @Override public void unscale(float factor, Buffer overflow) {
        synchronized (backend) {
            checkOpen("unscale");
            for (int i = 0; i < weights.size(); i++) requireF32("unscale", weights.get(i).grad(), i, "grad");
            CudaLaunchPlan.OpPlan p = plan.unscale(factor);
            if (p.launches().isEmpty()) return;
            backend.runWithTables("weightUpdate unscale", p, tables(plan.unscaleChunksOffset()), overflow);
        }
    }

    private Map<String, CUdeviceptr> tables(long chunksOffset) {
        return Map.of("weights", table.ptr, "chunks", table.ptr.withByteOffset(chunksOffset));
    }

    private void checkOpen(String what) {
        if (closed || (table != null && table.isClosed())) throw new IllegalStateException("weightUpdate " + what + ": the update (or its backend) was closed");
    }

    private void requireF32(String what, Buffer b, int weight, String role) {
        CudaBuffer cb = backend.own(b, "weightUpdate " + what + ": weight " + weight + " " + role);
        if (cb.storage != Storage.F32) {
            throw new IllegalStateException("weightUpdate " + what + ": weight " + weight + " " + role + " holds " + cb.storage
                    + (cb.storage == Storage.EMPTY ? " (nothing has written it)" : "") + "; the multi-tensor kernels read and write fp32 only");
        }
    }

    @Override public void close() {
        synchronized (backend) {
            closed = true;
            if (table != null) table.close();
        }
    }
}
