// common.h — prepended to every jxception OpenCL source by the host (ClPrograms).
//
// Conventions shared by all kernels:
//  - Activations are NHWC fp32; a "pixel" p indexes the flattened (n, y, x) of a tensor, so the
//    channel vector of pixel p starts at p * C.
//  - Sizes that shape the code are compile-time -D options (CIN, COUT, H, W, ...): each layer shape
//    gets its own binary, so loops have constant trip counts and the compiler unrolls and vectorises.
//  - Output channels are processed VW at a time as one OpenCL vector (floatV). When a channel count
//    C is not a multiple of VW the last vector is shifted left to start at C - VW (VW <= C always):
//    it recomputes a few channels of its neighbour and stores only the lanes it owns (store_tail).
//    So the hot loops never branch on a tail.
//  - The register tile of the GEMM-shaped kernels is RM rows x VW columns: RM accumulators of floatV.
//    On pocl (CPUs) RM = 8, VW = 16 keeps 8 AVX-512 accumulators busy: ~210 GFLOP/s on 2 Zen 4 cores.

#ifndef VW
#define VW 16
#endif

#if VW == 16
typedef float16 floatV;
#define VLOAD(p) vload16(0, (p))
#define VSTORE(v, p) vstore16((v), 0, (p))
#elif VW == 8
typedef float8 floatV;
#define VLOAD(p) vload8(0, (p))
#define VSTORE(v, p) vstore8((v), 0, (p))
#elif VW == 4
typedef float4 floatV;
#define VLOAD(p) vload4(0, (p))
#define VSTORE(v, p) vstore4((v), 0, (p))
#elif VW == 2
typedef float2 floatV;
#define VLOAD(p) vload2(0, (p))
#define VSTORE(v, p) vstore2((v), 0, (p))
#elif VW == 1
typedef float floatV;
#define VLOAD(p) (*(p))
#define VSTORE(v, p) (*(p) = (v))
#else
#error "VW must be 1, 2, 4, 8 or 16"
#endif

// Vector width of the input-channel side (depthwise taps, per-channel reductions), same scheme.
#ifndef VWI
#define VWI VW
#endif
#if VWI == 16
typedef float16 floatI;
typedef int16 intI;
#define ILOAD(p) vload16(0, (p))
#define ISTORE(v, p) vstore16((v), 0, (p))
#elif VWI == 8
typedef float8 floatI;
typedef int8 intI;
#define ILOAD(p) vload8(0, (p))
#define ISTORE(v, p) vstore8((v), 0, (p))
#elif VWI == 4
typedef float4 floatI;
typedef int4 intI;
#define ILOAD(p) vload4(0, (p))
#define ISTORE(v, p) vstore4((v), 0, (p))
#elif VWI == 2
typedef float2 floatI;
typedef int2 intI;
#define ILOAD(p) vload2(0, (p))
#define ISTORE(v, p) vstore2((v), 0, (p))
#elif VWI == 1
typedef float floatI;
typedef int intI;
#define ILOAD(p) (*(p))
#define ISTORE(v, p) (*(p) = (v))
#else
#error "VWI must be 1, 2, 4, 8 or 16"
#endif

#ifdef RELU
#error "RELU is common.h's function macro; a build option must say PRE_RELU or POST_RELU"
#endif
#define RELU(v) fmax((v), 0.0f)

// First channel of vector number `vec` over C channels with vectors of width w (the shifted tail).
inline int vec_start(int vec, int w, int c) {
    int c0 = vec * w;
    return c0 + w > c ? c - w : c0;
}

// Stores the lanes of v that vector number `vec` owns: all of them, except for a shifted tail
// vector, which skips the lanes its left neighbour already stores. `row` is a buffer (aligned by
// OpenCL to at least 128 bytes) plus a multiple of c floats, so when c is a multiple of the vector
// width every vector is aligned and goes out in one store (pocl splits vstore16 into four).
inline void store_tail(floatV v, global float* row, int vec, int c) {
    int owned = vec * VW;
    int c0 = vec_start(vec, VW, c);
    if (c % VW == 0) {
        *(global floatV*)(row + c0) = v;
    } else if (c0 == owned) {
        VSTORE(v, row + c0);
    } else {
        float lanes[VW];
        VSTORE(v, lanes);
        for (int j = owned - c0; j < VW; j++) row[c0 + j] = lanes[j];
    }
}

inline void store_tail_i(floatI v, global float* row, int vec, int c) {
    int owned = vec * VWI;
    int c0 = vec_start(vec, VWI, c);
    if (c % VWI == 0) {
        *(global floatI*)(row + c0) = v;
    } else if (c0 == owned) {
        ISTORE(v, row + c0);
    } else {
        float lanes[VWI];
        ISTORE(v, lanes);
        for (int j = owned - c0; j < VWI; j++) row[c0 + j] = lanes[j];
    }
}

// Conv epilogue on one output vector: y = relu?( z * scale + shift + residual ), compile-time
// switches HAS_BN, HAS_RES, POST_RELU. scale, shift (COUT); res_row: the residual's pixel row.
#ifndef HAS_BN
#define HAS_BN 0
#endif
#ifndef HAS_RES
#define HAS_RES 0
#endif
#ifndef POST_RELU
#define POST_RELU 0
#endif
#ifndef PRE_RELU
#define PRE_RELU 0
#endif

inline floatV epilogue(floatV z, global const float* scale, global const float* shift,
                       global const float* res_row, int c0) {
#if HAS_BN
    z = fma(z, VLOAD(scale + c0), VLOAD(shift + c0));
#endif
#if HAS_RES
    z += VLOAD(res_row + c0);
#endif
#if POST_RELU
    z = RELU(z);
#endif
    return z;
}
