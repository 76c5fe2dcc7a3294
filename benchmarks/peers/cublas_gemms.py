#!/usr/bin/env python3
"""cuBLAS peer for the jxception benchmark suite: the network's pointwise GEMMs through torch.mm.

Every separable conv's pointwise part and every 1x1 residual conv of Xception is a GEMM
    C (M x N) = A (M x K) . B (K x N),   M = batch*H*W output pixels, K = Cin, N = Cout,
A the NHWC activations (row-major, K contiguous), B the (Cin, Cout) kernel. `jxception bench` sends
the shapes of one batch size on stdin; this script times torch.mm on each, which on CUDA is a
cuBLAS (cublasLt) GEMM, in each precision:
    fp32  fp32 in/out, strict fp32 math (TF32 off)
    tf32  fp32 in/out, TF32 tensor cores (torch.backends.cuda.matmul.allow_tf32)
    bf16  bf16 in/out, fp32 accumulation (reduced-precision reductions off)
Times: CUDA events around each call (perf_counter on the CPU), `warmup` untimed calls, then the
median of `iterations`. Operands are random (never zeros) and allocated once per shape; shapes
that repeat (the middle flow's 24 identical GEMMs) are timed once.

stdin:  {"gemms": [{"index": 7, "node": "block2_sepconv1", "m": 21609, "n": 128, "k": 64}, ...],
         "precisions": ["fp32", "bf16"], "warmup": 3, "iterations": 20}
stdout: {"peer": "cublas", "library": "torch 2.11.0+cu130 torch.mm (cuBLAS 13...)", "device": "cuda",
         "device_name": ..., "results": [{"index": 7, "node": ..., "m": ..., "n": ..., "k": ...,
         "precision": "bf16", "median_ms": ..., "min_ms": ..., "max_ms": ..., "samples": 20}, ...]}
         printed again after every shape with the results so far (a caller that kills a slow run
         keeps the last complete line); {"unavailable": "<why>"} and exit status 3 without torch or
         a CUDA device.

  echo '{"gemms":[{"index":0,"node":"x","m":361,"n":728,"k":728}],"precisions":["fp32"]}' | \
      python3 benchmarks/peers/cublas_gemms.py --device cpu
"""
import argparse
import json
import statistics
import sys
import time


def unavailable(why):
    print(json.dumps({"unavailable": why}))
    sys.exit(3)


try:
    import torch
except ImportError as e:  # before anything else so the suite always gets JSON
    if __name__ == "__main__":
        unavailable("python module torch not found for %s (%s)" % (sys.executable, e))
    raise

DTYPES = {"fp32": torch.float32, "tf32": torch.float32, "bf16": torch.bfloat16}


def set_math(precision, device):
    if device != "cuda":
        return
    torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
    if hasattr(torch.backends.cuda.matmul, "allow_bf16_reduced_precision_reduction"):
        torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction = False


def time_mm(a, b, c, device, warmup, iterations):
    """Seconds per torch.mm(a, b, out=c)."""
    for _ in range(warmup):
        torch.mm(a, b, out=c)
    if device == "cuda":
        torch.cuda.synchronize()
    out = []
    for _ in range(iterations):
        if device == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            torch.mm(a, b, out=c)
            end.record()
            end.synchronize()
            out.append(start.elapsed_time(end) / 1000.0)
        else:
            t0 = time.perf_counter()
            torch.mm(a, b, out=c)
            out.append(time.perf_counter() - t0)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cuda", choices=["cpu", "cuda"], help="cuda (cuBLAS); cpu only to test the script")
    args = p.parse_args()
    try:
        request = json.loads(sys.stdin.read())
        gemms = request["gemms"]
        precisions = request.get("precisions", ["fp32"])
        warmup, iterations = int(request.get("warmup", 3)), int(request.get("iterations", 20))
    except (ValueError, KeyError, TypeError) as e:
        print("stdin is not a GEMM request: %s" % e, file=sys.stderr)
        sys.exit(2)
    for s in precisions:
        if s not in DTYPES:
            print("unknown precision %r: expected one of %s" % (s, ", ".join(DTYPES)), file=sys.stderr)
            sys.exit(2)
    if iterations < 1 or warmup < 0:
        print("iterations must be >= 1 and warmup >= 0", file=sys.stderr)
        sys.exit(2)
    if args.device == "cuda" and not torch.cuda.is_available():
        unavailable("torch %s sees no CUDA device" % torch.__version__)
    device = torch.device(args.device)
    if args.device == "cuda":
        device_name = torch.cuda.get_device_name(0)
        blas = "cuBLAS %s" % torch.backends.cuda.preferred_blas_library() if hasattr(torch.backends.cuda, "preferred_blas_library") else "cuBLAS"
        library = "torch %s torch.mm (%s, CUDA %s)" % (torch.__version__, blas, torch.version.cuda)
    else:
        device_name = "cpu"
        library = "torch %s torch.mm (CPU BLAS; a test of the script, not cuBLAS)" % torch.__version__

    results = []

    def report():
        print(json.dumps({"peer": "cublas", "library": library, "device": args.device, "device_name": device_name,
                          "results": results}), flush=True)

    gen = torch.Generator(device=device).manual_seed(0)
    for precision in precisions:
        set_math(precision, args.device)
        dtype = DTYPES[precision]
        timed = {}  # (m, n, k) -> result fields
        for g in gemms:
            m, n, k = int(g["m"]), int(g["n"]), int(g["k"])
            key = (m, n, k)
            if key not in timed:
                print("cublas %s %dx%dx%d (%s)" % (precision, m, n, k, g.get("node")), file=sys.stderr, flush=True)
                try:
                    a = (torch.rand(m, k, device=device, generator=gen) * 2 - 1).to(dtype)  # (M, K) activations
                    b = ((torch.rand(k, n, device=device, generator=gen) * 2 - 1) / k ** 0.5).to(dtype)  # (K, N) kernel
                    c = torch.empty(m, n, device=device, dtype=dtype)
                    t = time_mm(a, b, c, args.device, warmup, iterations)
                    timed[key] = {"median_ms": statistics.median(t) * 1e3, "min_ms": min(t) * 1e3, "max_ms": max(t) * 1e3,
                                  "samples": len(t)}
                    del a, b, c
                except RuntimeError as e:  # out of memory, a dtype the device lacks ...
                    timed[key] = {"error": str(e).split("\n")[0]}
                if args.device == "cuda":
                    torch.cuda.empty_cache()
            row = {"index": g.get("index"), "node": g.get("node"), "m": m, "n": n, "k": k, "precision": precision}
            row.update(timed[key])
            results.append(row)
        report()
    report()


if __name__ == "__main__":
    main()
