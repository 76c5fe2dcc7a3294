#!/usr/bin/python3
"""PyTorch CPU peer for the OpenCL (pocl) benchmark: the Keras Xception forward on the same machine.

The architecture is keras/src/applications/xception.py layer for layer (stem valid convs, separable
convs as depthwise + pointwise without bias, BatchNormalization eps 1e-3, TensorFlow 'same' padding
for the stride-2 max pools and 1x1 convs, pre-activation blocks, 1000-class softmax top), random
weights, eval mode, no_grad, channels_last, torch.set_num_threads(2): PyTorch's best CPU path here
(oneDNN). Prints and appends CSV rows: implementation,what,batch,millis,gflops,gbytes_per_s,images_per_s,load_1min
(the machine's 1-minute load average: PyTorch's OpenMP threads slow down badly when another job takes
a core, so compare rows taken at similar load).

Run with Debian's interpreter (python3-torch):
    /usr/bin/python3 benchmarks/opencl/pytorch_cpu_xception.py --batches 1,8 --csv benchmarks/results/x.csv
"""
import argparse
import os
import statistics
import sys
import time

import torch
import torch.nn as nn


# The network is the suite's peer model (benchmarks/peers/pytorch_xception.py): one PyTorch Keras-Xception.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))
from pytorch_xception import Xception  # noqa: E402


def count_macs(model, size):
    macs = 0

    def hook(m, inp, out):
        nonlocal macs
        if isinstance(m, nn.Conv2d):
            macs += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    hooks = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size).to(memory_format=torch.channels_last))
    for h in hooks:
        h.remove()
    return macs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=299)
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--csv")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = Xception(args.size).eval().to(memory_format=torch.channels_last)
    params = sum(p.numel() for p in model.parameters()) + sum(b.numel() for n, b in model.named_buffers() if "running" in n)
    macs = count_macs(model, args.size)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, oneDNN {torch.backends.mkldnn.is_available()}, "
          f"{params} parameters (Keras: 22910480), {macs / 1e9:.2f} GMACs per image")
    rows = []
    for batch in [int(b) for b in args.batches.split(",")]:
        x = torch.rand(batch, 3, args.size, args.size).mul(2).sub(1).to(memory_format=torch.channels_last)
        with torch.no_grad():
            for _ in range(3):
                model(x)
            ms = []
            for _ in range(args.reps):
                t = time.perf_counter()
                model(x)
                ms.append((time.perf_counter() - t) * 1e3)
        med = statistics.median(ms)
        ips = batch * 1e3 / med
        gflops = 2.0 * macs * batch / med / 1e6
        print(f"forward {args.size} batch {batch}: median {med:.1f} ms (min {min(ms):.1f}, max {max(ms):.1f}) = {ips:.2f} img/s, {gflops:.1f} GFLOP/s")
        load = open("/proc/loadavg").read().split()[0]
        rows.append(f"pytorch-{torch.__version__}-cpu-{args.threads}threads,forward {args.size},{batch},{med:.3f},{gflops:.1f},0.0,{ips:.2f},{load}")
    if args.csv:
        exists = os.path.exists(args.csv)
        with open(args.csv, "a") as f:
            if not exists:
                f.write("implementation,what,batch,millis,gflops,gbytes_per_s,images_per_s,load_1min\n")
            for r in rows:
                f.write(r + "\n")
        print(f"appended {len(rows)} rows to {args.csv}")


if __name__ == "__main__":
    main()
