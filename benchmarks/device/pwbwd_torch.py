#!/usr/bin/env python3
"""cuBLAS (torch.mm) beside cuda/dev/pwbwd_v1 on the same card, in the same device call (issue 13).

Reads the TABLE lines of a pwbwd_v1 log (shapes, our times and the layer counts come from there, so the layer
list lives in one place) and times, in bf16 with CUDA events (3 warm-up rounds, median of 11; operands rotated
over buffer sets >= 2x L2, as pwbwd_v1 does):
  dgrad  torch.mm(dz (M, cout), W2h (cin, cout).t())  -> dd (M, cin) bf16        (what autograd runs for a 1x1 conv)
  wgrad  torch.mm(d (M, cin).t(), dz (M, cout))       -> dW2 (cin, cout) bf16    (cuBLAS picks its own split-K;
         its output is bf16 where ours is fp32 -- AMP's weight gradients of a bf16 GEMM are bf16 too)
and prints one line per shape with FFMA, ours and torch.mm (ms, TFLOP/s, ours as % of cuBLAS), then the sum
over Xception's 34 separable convs per batch.

Usage: python3 pwbwd_torch.py pwbwd.log [--csv out.csv]
"""
import argparse
import math
import re

LINE = re.compile(r"^TABLE\s+bf16 b=(\d+)\s+(.+?)\s+M=(\d+)\s+cin=(\d+)\s+cout=(\d+)\s+\| dgrad FFMA\s+([\d.]+) ms.*?\| mma\s+([\d.]+) ms"
                  r".*?\| wgrad FFMA\s+([\d.]+) ms.*?\| mma\s+([\d.]+) ms")
COUNT = {"middle b5-12 x3, b13_1": 25}  # every other layer: one separable conv in the network


def median_ms(fn, nsets, start, stop, torch):
    for _ in range(3):
        for i in range(nsets):
            fn(i)
    torch.cuda.synchronize()
    times = []
    for _ in range(11):
        start.record()
        for i in range(nsets):
            fn(i)
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop) / nsets)
    return sorted(times)[len(times) // 2]


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
                b, name, M, cin, cout, fd, nd, fw, nw = m.groups()
                rows.append((int(b), name.strip(), int(M), int(cin), int(cout), float(fd), float(nd), float(fw), float(nw)))
    if not rows:
        print("pwbwd_torch: no TABLE lines in %s (pwbwd_v1 did not reach its timings): nothing to compare" % args.log)
        return 1

    import torch
    dev = torch.device("cuda")
    l2 = torch.cuda.get_device_properties(dev).L2_cache_size
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    out = []
    for b, name, M, cin, cout, fd, nd, fw, nw in rows:
        bf = torch.bfloat16
        nsets = max(1, min(8, math.ceil(2 * l2 / (2 * M * (2 * cin + cout)))))
        dz = [torch.empty(M, cout, device=dev, dtype=bf).uniform_(-1, 1) for _ in range(nsets)]
        d = [torch.empty(M, cin, device=dev, dtype=bf).uniform_(-1, 1) for _ in range(nsets)]
        dd = [torch.empty(M, cin, device=dev, dtype=bf) for _ in range(nsets)]
        w2h = torch.empty(cin, cout, device=dev, dtype=bf).uniform_(-1, 1)
        dw2 = torch.empty(cin, cout, device=dev, dtype=bf)
        td = median_ms(lambda i: torch.mm(dz[i], w2h.t(), out=dd[i]), nsets, start, stop, torch)
        tw = median_ms(lambda i: torch.mm(d[i].t(), dz[i], out=dw2), nsets, start, stop, torch)
        del dz, d, dd, w2h, dw2
        torch.cuda.empty_cache()
        flops = 2.0 * M * cin * cout
        tf = lambda t: flops / (t * 1e9)
        out.append((b, name, M, cin, cout, fd, nd, td, fw, nw, tw))
        print("TORCH b=%-3d %-22s M=%-7d cin=%-4d cout=%-4d | dgrad FFMA %7.3f | mma %7.3f ms %4.0f TF | torch.mm %7.3f ms %4.0f TF | %3.0f%% of cuBLAS"
              " | wgrad FFMA %7.3f | mma %7.3f ms %4.0f TF | torch.mm %7.3f ms %4.0f TF | %3.0f%% of cuBLAS"
              % (b, name, M, cin, cout, fd, nd, tf(nd), td, tf(td), 100 * td / nd, fw, nw, tf(nw), tw, tf(tw), 100 * tw / nw), flush=True)
    for b in sorted({r[0] for r in out}, reverse=True):
        sel = [r for r in out if r[0] == b]
        s = lambda i: sum(COUNT.get(r[1], 1) * r[i] for r in sel)
        print("TORCH b=%-3d 34 sepconvs' pointwise backward per step: FFMA %.2f ms | mma.sync %.2f ms | torch.mm %.2f ms | mma.sync %.0f%% of cuBLAS"
              % (b, s(5) + s(8), s(6) + s(9), s(7) + s(10), 100 * (s(7) + s(10)) / (s(6) + s(9))))
    if args.csv:
        with open(args.csv, "w") as f:
            f.write("batch,layer,M,cin,cout,dgrad_ffma_ms,dgrad_mma_ms,dgrad_torch_ms,wgrad_ffma_ms,wgrad_mma_ms,wgrad_torch_ms,device\n")
            name = torch.cuda.get_device_name(dev)
            for r in out:
                f.write("%d,%s,%d,%d,%d,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%s\n" % (r + (name,)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
