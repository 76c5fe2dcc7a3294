// Tensor maps for the TMA kernels of the cuda/dev programs: cuTensorMapEncodeTiled from the driver through
// cudaGetDriverEntryPointByVersion (no -lcuda), 2-D row-major matrices with a 128-byte swizzle and zero fill.
#pragma once
#include "dev_common.cuh"
#include <cuda.h>
#include <cuda_fp16.h>
#include <cudaTypedefs.h>
#include <type_traits>

static PFN_cuTensorMapEncodeTiled_v12000 g_encode = nullptr;
static void init_tensor_map_encoder() {
    cudaDriverEntryPointQueryResult q;
    CK(cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", reinterpret_cast<void**>(&g_encode), 12000, cudaEnableDefault, &q));
    if (q != cudaDriverEntryPointSuccess || !g_encode) {
        fprintf(stderr, "cuTensorMapEncodeTiled not found in the driver (query result %d): a CUDA 12+ driver is needed\n", (int)q);
        exit(1);
    }
}
// A 2-D (rows, cols) row-major matrix of T (bf16, fp16 or fp32) with a (boxRows, boxCols) box, 128-byte swizzle, zero fill.
template <typename T>
static CUtensorMap tensor_map(const T* base, uint64_t rows, uint64_t cols, uint32_t boxRows, uint32_t boxCols) {
    CUtensorMap m;
    cuuint64_t dims[2] = {cols, rows};
    cuuint64_t strides[1] = {cols * sizeof(T)};
    cuuint32_t box[2] = {boxCols, boxRows};
    cuuint32_t elementStrides[2] = {1, 1};
    const CUtensorMapDataType type = std::is_same<T, __nv_bfloat16>::value ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
                                     : std::is_same<T, __half>::value      ? CU_TENSOR_MAP_DATA_TYPE_FLOAT16
                                                                           : CU_TENSOR_MAP_DATA_TYPE_FLOAT32;
    CUresult r = g_encode(&m, type, 2, const_cast<T*>(base), dims, strides, box, elementStrides, CU_TENSOR_MAP_INTERLEAVE_NONE,
                          CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    if (r != CUDA_SUCCESS) {
        fprintf(stderr, "cuTensorMapEncodeTiled failed (%d) for a (%llu, %llu) matrix at %p, box (%u, %u)\n", (int)r, (unsigned long long)rows,
                (unsigned long long)cols, (const void*)base, boxRows, boxCols);
        exit(1);
    }
    return m;
}
