#!/usr/bin/env python3
"""Card peaks for the jxception benchmark suite: what a vendor library reaches on the device.

`jxception bench` takes each precision's roofline ceilings as the best of its own kernels' probes
(PeakMeter) and these:
  compute    torch.matmul(a, b, out=c) on square (n x n) . (n x n) matrices, for each n of --sizes,
             in each precision: on CUDA a cuBLAS(Lt) GEMM.
               fp32  fp32 in/out, strict fp32 math (TF32 off)
               tf32  fp32 in/out, TF32 tensor cores (torch.backends.cuda.matmul.allow_tf32)
               bf16  bf16 in/out, fp16  fp16 in/out (torch's default reductions, fp32 accumulation)
             FLOPs = 2 n^3 per product.
  bandwidth  dst.copy_(src) over two fp32 buffers of --copy-mib MiB each (device to device): bytes
             = read src + write dst = 2 x the buffer, the way KINDS.md's copy probe counts them.
Operands are random (never zeros: a GEMM of zeros runs faster on these cards) and allocated once per
shape. Each probe: `warmup` untimed calls, then `iterations` timed ones with CUDA events (perf_counter
on the CPU); min, median and max are reported, and the suite takes the fastest (a ceiling is what
the device can do; noise only ever slows a run).

stdout: {"peer": "card_peaks", "torch": "2.11.0+cu130", "library": "torch 2.11.0+cu130 torch.matmul (cuBLAS, CUDA 13.0)",
         "device": "cuda", "device_name": "NVIDIA H200",
         "compute": [{"precision": "bf16", "n": 8192, "flops": 1099511627776, "median_ms": ..., "min_ms": ...,
                      "max_ms": ..., "samples": 10}, ...],
         "bandwidth": [{"what": "copy_", "buffer_bytes": ..., "bytes": ..., "median_ms": ..., "min_ms": ...,
                        "max_ms": ..., "samples": 10}]}
        printed again after every probe with the results so far (a killed run keeps the last
        complete line); a probe that failed (out of memory ...) has "error" instead of the times;
        {"unavailable": "<why>"} and exit status 3 without torch or a CUDA device.

  python3 benchmarks/peers/card_peaks.py --device cuda --precision fp32,tf32,bf16 --sizes 8192,16384
  python3 benchmarks/peers/card_peaks.py --device cpu --precision fp32 --sizes 256 --copy-mib 16   # a test of the script
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

DTYPES = {"fp32": torch.float32, "tf32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cuda", choices=["cpu", "cuda"], help="cuda; cpu only to test the script")
    p.add_argument("--precision", default="fp32,tf32,bf16", help="comma list of " + ", ".join(DTYPES))
    p.add_argument("--sizes", default="8192,16384", help="comma list of n: (n x n) . (n x n) products")
    p.add_argument("--copy-mib", type=int, default=2048, help="MiB per copy buffer (0: no bandwidth probe)")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--iterations", type=int, default=10)
    a = p.parse_args()
    a.precisions = [s.strip().lower() for s in a.precision.split(",") if s.strip()]
    for s in a.precisions:
        if s not in DTYPES:
            p.error("unknown precision %r: expected one of %s" % (s, ", ".join(DTYPES)))
    a.sizes = [int(n) for n in a.sizes.split(",") if n.strip()]
    if a.iterations < 1 or a.warmup < 0 or any(n < 1 for n in a.sizes) or a.copy_mib < 0:
        p.error("iterations must be >= 1, warmup >= 0, sizes >= 1, copy-mib >= 0")
    return a


def timed(call, device, warmup, iterations):
    """{median_ms, min_ms, max_ms, samples} of `call`."""
    for _ in range(warmup):
        call()
    if device == "cuda":
        torch.cuda.synchronize()
    out = []
    for _ in range(iterations):
        if device == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            call()
            end.record()
            end.synchronize()
            out.append(start.elapsed_time(end))
        else:
            t0 = time.perf_counter()
            call()
            out.append((time.perf_counter() - t0) * 1e3)
    return {"median_ms": statistics.median(out), "min_ms": min(out), "max_ms": max(out), "samples": len(out)}


def main():
    a = parse_args()
    if a.device == "cuda" and not torch.cuda.is_available():
        unavailable("torch %s sees no CUDA device" % torch.__version__)
    device = torch.device(a.device)
    if a.device == "cuda":
        device_name = torch.cuda.get_device_name(0)
        library = "torch %s torch.matmul (cuBLAS, CUDA %s)" % (torch.__version__, torch.version.cuda)
    else:
        device_name = "cpu"
        library = "torch %s torch.matmul (CPU BLAS; a test of the script, not a card peak)" % torch.__version__
    compute, bandwidth = [], []

    def report():
        print(json.dumps({"peer": "card_peaks", "torch": torch.__version__, "library": library, "device": a.device,
                          "device_name": device_name, "compute": compute, "bandwidth": bandwidth}), flush=True)

    gen = torch.Generator(device=device).manual_seed(0)

    def release():
        if a.device == "cuda":
            torch.cuda.empty_cache()

    if a.copy_mib > 0:  # first: the copy needs the most memory, before any GEMM operand is cached
        elements = a.copy_mib * (1 << 20) // 4
        row = {"what": "copy_", "buffer_bytes": elements * 4, "bytes": 2 * elements * 4}
        print("card peaks: copy_ of %d MiB" % a.copy_mib, file=sys.stderr, flush=True)
        try:
            src = torch.rand(elements, device=device, generator=gen) * 2 - 1
            dst = torch.empty_like(src)
            row.update(timed(lambda: dst.copy_(src), a.device, a.warmup, a.iterations))
            del src, dst
        except RuntimeError as e:
            row["error"] = str(e).split("\n")[0]
        bandwidth.append(row)
        release()
        report()
    for precision in a.precisions:
        if a.device == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
        dtype = DTYPES[precision]
        for n in a.sizes:
            row = {"precision": precision, "n": n, "flops": 2 * n ** 3}
            print("card peaks: matmul %s %dx%dx%d" % (precision, n, n, n), file=sys.stderr, flush=True)
            try:
                x = (torch.rand(n, n, device=device, generator=gen) * 2 - 1).to(dtype)
                y = ((torch.rand(n, n, device=device, generator=gen) * 2 - 1) / n ** 0.5).to(dtype)
                z = torch.empty(n, n, device=device, dtype=dtype)
                row.update(timed(lambda: torch.matmul(x, y, out=z), a.device, a.warmup, a.iterations))
                del x, y, z
            except RuntimeError as e:  # out of memory, a dtype the device lacks ...
                row["error"] = str(e).split("\n")[0]
            compute.append(row)
            release()
            report()
    report()


if __name__ == "__main__":
    main()
