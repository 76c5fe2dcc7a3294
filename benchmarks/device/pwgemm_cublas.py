#!/usr/bin/env python3
"""cuBLAS (torch.mm) beside cuda/dev/pwgemm_v1 on the same card, in the same device call (issue #12).

Reads the TABLE lines of a pwgemm_v1 log (the shapes and our times come from there, so the layer list
lives in one place), times torch.mm(A (M, K), B (K, N)) for each shape in the same dtype with CUDA events
(3 warm-up rounds, median of 15; A and the output rotated over buffer sets >= 2x L2, as pwgemm_v1 does),
and prints one comparison line per shape, then the sum over Xception's 34 pointwise GEMMs per dtype.
tf32 lines (pwgemm_wgmma_tf32_*, no mma.sync column) are timed as float32 torch.mm with
torch.backends.cuda.matmul.allow_tf32 = True (cuBLAS's TF32 tensor-core GEMM), the others with it off.
torch.mm is the bare GEMM (no BN scale/shift, residual or ReLU epilogue): ours does more per call.

Usage: python3 pwgemm_cublas.py pwgemm.log [--csv out.csv]
"""
import argparse
import math
import re
import sys

# the mma.sync column is absent from tf32 lines (sepgemm has no tf32 GEMM)
LINE = re.compile(r"^TABLE\s+(bf16|fp16|tf32) b=(\d+)\s+(.+?)\s+M=(\d+)\s+K=(\d+)\s+N=(\d+)\s+(?:\| mma\.sync\s+([\d.]+) ms\s+\d+ TF\s+\d+% )?"
                  r"\| wgmma256\s+([\d.]+) ms\s+\d+ TF\s+\d+% \| wgmma128\s+([\d.]+) ms")
COUNT = {"middle sepconv1/2 b13_1": 17, "middle sepconv3 (+res)": 8}  # every other layer: one GEMM in the network
PEAK_TFLOPS = {"bf16": 989.4, "fp16": 989.4, "tf32": 494.7}  # dense, H100/H200 SXM datasheet (as in pwgemm_v1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--csv")
    args = ap.parse_args()
    rows = []
    with open(args.log) as f:
        for line in f:
            m = LINE.match(line)
            if m:
                dt, b, name, M, K, N, mma, w256, w128 = m.groups()
                rows.append((dt, int(b), name, int(M), int(K), int(N), float(mma) if mma else None, min(float(w256), float(w128))))
    if not rows:
        print("pwgemm_cublas: no TABLE lines in %s (pwgemm_v1 did not reach its timings): nothing to compare" % args.log)
        return 1

    import torch
    dev = torch.device("cuda")
    l2 = torch.cuda.get_device_properties(dev).L2_cache_size
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    out = []
    for dt, b, name, M, K, N, mma, ours in rows:
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "tf32": torch.float32}[dt]
        torch.backends.cuda.matmul.allow_tf32 = dt == "tf32"
        set_bytes = (4 if dt == "tf32" else 2) * (M * K + M * N)
        nsets = max(1, min(8, math.ceil(2 * l2 / set_bytes)))
        a = [torch.empty(M, K, device=dev, dtype=dtype).uniform_(-1, 1) for _ in range(nsets)]
        w = torch.empty(K, N, device=dev, dtype=dtype).uniform_(-1, 1) * (3.0 / K) ** 0.5
        y = [torch.empty(M, N, device=dev, dtype=dtype) for _ in range(nsets)]
        for _ in range(3):
            for i in range(nsets):
                torch.mm(a[i], w, out=y[i])
        torch.cuda.synchronize()
        times = []
        for _ in range(15):
            start.record()
            for i in range(nsets):
                torch.mm(a[i], w, out=y[i])
            stop.record()
            stop.synchronize()
            times.append(start.elapsed_time(stop) / nsets)
        ms = sorted(times)[len(times) // 2]
        del a, w, y
        torch.cuda.empty_cache()
        tf = lambda t: 2.0 * M * N * K / (t * 1e9)
        out.append((dt, b, name, M, K, N, mma, ours, ms))
        mma_col = "mma.sync %7.3f ms %4.0f TF" % (mma, tf(mma)) if mma is not None else "mma.sync     n/a         "
        print("CUBLAS %s b=%-3d %-23s M=%-7d K=%-4d N=%-4d | %s | wgmma best %7.3f ms %4.0f TF %3.0f%% peak"
              " | torch.mm %7.3f ms %4.0f TF | wgmma %3.0f%% of cuBLAS" % (dt, b, name, M, K, N, mma_col, ours, tf(ours),
                                                                           100 * tf(ours) / PEAK_TFLOPS[dt], ms, tf(ms), 100 * ms / ours),
              flush=True)
    for dt in ("bf16", "tf32"):
        for b in sorted({r[1] for r in out if r[0] == dt}, reverse=True):
            sel = [r for r in out if r[0] == dt and r[1] == b]
            s = lambda i: sum(COUNT.get(r[2], 1) * r[i] for r in sel)
            mma_sum = "mma.sync %.2f ms" % s(6) if dt != "tf32" else "mma.sync n/a"
            print("CUBLAS %s b=%-3d all 34 pointwise GEMMs: %s | wgmma best %.2f ms | torch.mm %.2f ms | wgmma %.0f%% of cuBLAS"
                  % (dt, b, mma_sum, s(7), s(8), 100 * s(8) / s(7)))
    if args.csv:
        with open(args.csv, "w") as f:
            f.write("dtype,batch,layer,M,K,N,mma_sync_ms,wgmma_best_ms,torch_mm_ms,device\n")
            for r in out:
                mma = "" if r[6] is None else "%.4f" % r[6]
                f.write("%s,%d,%s,%d,%d,%d,%s,%.4f,%.4f,%s\n" % (r[:6] + (mma,) + r[7:] + (torch.cuda.get_device_name(dev),)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
