// Host-thread emulations of the Hopper (sm_90a) instructions behind cuda/hopper.cuh's wrappers, so the
// wgmma kernels (hopper_pwgemm.cu, hopper_sepconv.cu, hopper_pwbwd.cu) can execute in the dev checks on a
// machine without a GPU. hopper.cuh includes this file instead of its PTX when JX_HOST_THREADS is defined
// (host_threads.h defines it); nothing here is part of a device build.
//
// Shared memory: a launch's dynamic shared memory is the 1024-byte aligned "window" of host_threads.h;
// a shared address (smem_addr) is the byte offset into it, as on the device, so the 128-byte swizzle, which
// the hardware applies to address bits, is applied here to the same bits: 16-byte chunk bits [4:6] ^= [7:9].
//   mbarrier  a side table keyed by the barrier's shared address, under one mutex: expected arrivals,
//             pending arrivals, transaction bytes, phase. try_wait.parity(p) is true once the phase with
//             parity p has completed (current phase parity != p); a phase completes when its arrivals are in
//             and its transaction bytes are 0.
//   TMA       a CUtensorMap holds a HostTensorMap (host_encode_tensor_map): 2-D, row-major, 128-byte swizzle,
//             zero fill outside the tensor on loads, clipping on stores. A load copies at once and then
//             completes its bytes on the barrier, as the hardware's complete_tx does when the data has landed.
//   wgmma     executed at issue (fence, commit and wait have nothing left to order): each thread of the
//             warpgroup computes its own accumulators of the PTX "wgmma D fragment" layout from the two
//             shared-memory operands its descriptors address (K-major or, with the transpose bits, MN-major,
//             128-byte swizzle). 16-bit operands exact, tf32 operands truncated to their top 10 mantissa bits
//             (what the tensor cores read of an fp32 word); products added in k order in float.
//   named barriers (bar.sync id, 128), setmaxnreg (nothing), the global timer (steady_clock).
// Lanes run as independent threads, so the points where the hardware's warps converge are barriers here:
// __syncwarp and ldmatrix/mma.sync per warp, wgmma's wait per warpgroup (a lane-0 release after it is
// then a release by the whole warpgroup, as on the device).
// Included by hopper.cuh inside its namespace hopper (its headers come from host_threads.h and hopper.cuh).

// ------------------------------------------------------------------ tensor maps
struct HostTensorMap {
    unsigned char* base;
    long long cols, rows;          // dims: inner (elements), outer
    long long rowPitchBytes;
    int boxCols, boxRows, elemBytes;
};
static_assert(sizeof(HostTensorMap) <= sizeof(CUtensorMap), "a HostTensorMap fits in CUtensorMap's 128 bytes");
inline void host_encode_tensor_map(CUtensorMap* map, const void* base, int elemBytes, long long cols, long long rows, long long rowPitchBytes,
                                   int boxCols, int boxRows) {
    if (boxCols * elemBytes != 128) { fprintf(stderr, "host tensor map: the 128-byte swizzle needs 128-byte box rows\n"); abort(); }
    const HostTensorMap m{static_cast<unsigned char*>(const_cast<void*>(base)), cols, rows, rowPitchBytes, boxCols, boxRows, elemBytes};
    memset(map, 0, sizeof *map);
    memcpy(map, &m, sizeof m);
}
inline HostTensorMap host_map(const CUtensorMap* map) {
    HostTensorMap m;
    memcpy(&m, map, sizeof m);
    return m;
}

// ------------------------------------------------------------------ shared-memory window
inline unsigned char* host_shared(uint32_t addr) { return host_dynamic_shared_window() + addr; }
inline uint32_t host_swizzle128(uint32_t addr) { return addr ^ (((addr >> 7) & 7u) << 4); }

// ------------------------------------------------------------------ mbarriers
struct HostBarrier { uint32_t expected = 0, pending = 0; long long tx = 0; uint32_t phase = 0; };
inline std::mutex host_barrier_mutex;
inline std::unordered_map<uint32_t, HostBarrier> host_barriers;
inline void host_barrier_maybe_complete(HostBarrier& b) {
    if (b.pending == 0 && b.tx == 0) {
        b.phase ^= 1;
        b.pending = b.expected;
    }
}
inline void mbar_init(uint64_t* bar, uint32_t count) {
    std::lock_guard<std::mutex> g(host_barrier_mutex);
    HostBarrier& b = host_barriers[smem_addr(bar)];
    b = HostBarrier{count, count, 0, 0};
}
inline void mbar_init_fence() {}
inline void mbar_arrive(uint64_t* bar) {
    std::lock_guard<std::mutex> g(host_barrier_mutex);
    HostBarrier& b = host_barriers.at(smem_addr(bar));
    if (b.pending == 0) { fprintf(stderr, "mbarrier at %u: more arrivals than expected\n", smem_addr(bar)); abort(); }
    b.pending--;
    host_barrier_maybe_complete(b);
}
inline void mbar_arrive_expect_tx(uint64_t* bar, uint32_t bytes) {
    {
        std::lock_guard<std::mutex> g(host_barrier_mutex);
        host_barriers.at(smem_addr(bar)).tx += bytes;
    }
    mbar_arrive(bar);
}
inline void host_complete_tx(uint32_t bar, uint32_t bytes) {
    std::lock_guard<std::mutex> g(host_barrier_mutex);
    HostBarrier& b = host_barriers.at(bar);
    b.tx -= bytes;
    host_barrier_maybe_complete(b);
}
inline bool mbar_try_wait(uint32_t bar, uint32_t parity) {
    bool done;
    {
        std::lock_guard<std::mutex> g(host_barrier_mutex);
        done = host_barriers.at(bar).phase != (parity & 1u);
    }
    if (!done) std::this_thread::yield();
    return done;
}
inline uint64_t globaltimer_ns() {
    return (uint64_t)std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
inline void report_hang(HangInfo* hang, int role, int tile, int kb, int stage, uint32_t parity) {
    fprintf(stderr, "HANG block %u thread %u role %d tile %d kb %d stage %d parity %u\n", blockIdx.x, threadIdx.x, role, tile, kb, stage, parity);
    if (hang) { hang->role = role; hang->block = (int)blockIdx.x; hang->tile = tile; hang->kb = kb; hang->stage = stage; hang->parity = (int)parity; hang->hung = 1; }
    abort();
}

// ------------------------------------------------------------------ TMA
inline void tma_load_2d(void* dst, const CUtensorMap* map, int c0, int c1, uint64_t* bar) {
    const HostTensorMap m = host_map(map);
    const uint32_t d = smem_addr(dst);
    const int rowBytes = m.boxCols * m.elemBytes;
    for (int r = 0; r < m.boxRows; r++) {
        for (int e = 0; e < m.boxCols; e++) {
            const long long row = (long long)c1 + r, col = (long long)c0 + e;
            unsigned char* out = host_shared(host_swizzle128(d + r * rowBytes + e * m.elemBytes));
            if (row >= 0 && row < m.rows && col >= 0 && col < m.cols) memcpy(out, m.base + row * m.rowPitchBytes + col * m.elemBytes, m.elemBytes);
            else memset(out, 0, m.elemBytes);
        }
    }
    host_complete_tx(smem_addr(bar), (uint32_t)(m.boxRows * rowBytes));
}
inline void tma_store_2d(const CUtensorMap* map, const void* src, int c0, int c1) {
    const HostTensorMap m = host_map(map);
    const uint32_t s = smem_addr(src);
    const int rowBytes = m.boxCols * m.elemBytes;
    for (int r = 0; r < m.boxRows; r++) {
        for (int e = 0; e < m.boxCols; e++) {
            const long long row = (long long)c1 + r, col = (long long)c0 + e;
            if (row >= 0 && row < m.rows && col >= 0 && col < m.cols)
                memcpy(m.base + row * m.rowPitchBytes + col * m.elemBytes, host_shared(host_swizzle128(s + r * rowBytes + e * m.elemBytes)), m.elemBytes);
        }
    }
}
inline void bulk_commit() {}
template <int N> inline void bulk_wait_read() {}
template <int N> inline void bulk_wait() {}
inline void prefetch_tensormap(const CUtensorMap*) {}
inline void fence_proxy_async_shared() { std::atomic_thread_fence(std::memory_order_seq_cst); }

// ------------------------------------------------------------------ named barriers, registers
inline void warpgroup_barrier(int id) { host_named_barrier(id, 128); }
template <int REGS> inline void setmaxnreg_inc() {}
template <int REGS> inline void setmaxnreg_dec() {}

// ------------------------------------------------------------------ wgmma
inline void wgmma_fence() {}
inline void wgmma_commit() {}
// wgmma.wait_group.sync.aligned: the warpgroup's threads converge (on the device they run in lockstep), so a
// stage's release by lane 0 after the wait means every thread of the warpgroup has finished reading it.
template <int N> inline void wgmma_wait() { host_warpgroup_sync(); }
template <int R> inline void fence_accumulators(float (&)[R]) {}

// Shared address of element (mn, k) of an operand through its descriptor (k within the instruction's K step).
// K-major, 128-byte swizzle: mn rows of 128 bytes, 8-row groups SBO apart. MN-major, 128-byte swizzle: k rows of
// 64 mn elements (128 bytes), 8-row k groups SBO apart, 64-element mn atoms LBO apart.
inline uint32_t host_operand_address(uint64_t desc, bool mnMajor, int mn, int k, int elemBytes) {
    if ((desc >> 62) != 1) { fprintf(stderr, "wgmma descriptor: only the 128-byte swizzle is emulated\n"); abort(); }
    const uint32_t start = (uint32_t)(desc & 0x3FFF) << 4, lbo = (uint32_t)((desc >> 16) & 0x3FFF) << 4, sbo = (uint32_t)((desc >> 32) & 0x3FFF) << 4;
    uint32_t a;
    if (!mnMajor) a = start + (uint32_t)(mn / 8) * sbo + (uint32_t)(mn % 8) * 128 + (uint32_t)(k * elemBytes);
    else a = start + (uint32_t)(mn / 64) * lbo + (uint32_t)(k / 8) * sbo + (uint32_t)(k % 8) * 128 + (uint32_t)((mn % 64) * elemBytes);
    return host_swizzle128(a);
}
template <typename T> inline float host_operand(uint32_t addr) {
    if constexpr (std::is_same<T, float>::value) {
        uint32_t u;
        memcpy(&u, host_shared(addr), 4);
        return __uint_as_float(u & ~0x1FFFu);  // tf32: the tensor cores read the top 10 mantissa bits
    } else {
        T v;
        memcpy(&v, host_shared(addr), sizeof v);
        return to_f32(v);
    }
}
// D (64 x BN) (+)= A (64 x K) . B (K x BN), K = 32 bytes of elements; this thread's BN / 2 accumulators.
template <typename T, int BN>
inline void host_wgmma(float (&d)[BN / 2], uint64_t descA, uint64_t descB, int accumulate, bool mnMajor) {
    constexpr int E = (int)sizeof(T), K = 32 / E;
    const int wtid = threadIdx.x & 127, warp = wtid >> 5, lane = threadIdx.x & 31;
    for (int j = 0; j < BN / 8; j++) {
        for (int h = 0; h < 4; h++) {
            const int row = 16 * warp + lane / 4 + (h >= 2 ? 8 : 0), col = 8 * j + 2 * (lane % 4) + (h & 1);
            float s = accumulate ? d[4 * j + h] : 0.f;
            for (int k = 0; k < K; k++)
                s += host_operand<T>(host_operand_address(descA, mnMajor, row, k, E)) * host_operand<T>(host_operand_address(descB, mnMajor, col, k, E));
            d[4 * j + h] = s;
        }
    }
}
template <typename T, int BN>
inline void wgmma_step(float (&d)[BN / 2], uint64_t descA, uint64_t descB, int accumulate) { host_wgmma<T, BN>(d, descA, descB, accumulate, false); }
template <typename T, int BN>
inline void wgmma_step_mn_major(float (&d)[BN / 2], uint64_t descA, uint64_t descB, int accumulate) { host_wgmma<T, BN>(d, descA, descB, accumulate, true); }
