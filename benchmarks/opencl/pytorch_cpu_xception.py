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
import math
import os
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def tf_same_pad(size, k, stride):
    out = (size + stride - 1) // stride
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


class MaxPoolSame(nn.Module):
    """MaxPooling2D(3, strides=2, padding='same'): the extra padded row/column goes bottom/right."""

    def forward(self, x):
        top, bottom = tf_same_pad(x.shape[2], 3, 2)
        left, right = tf_same_pad(x.shape[3], 3, 2)
        x = F.pad(x, (left, right, top, bottom), value=float("-inf"))
        return F.max_pool2d(x, 3, 2)


class SepConvBN(nn.Module):
    """[ReLU] -> SeparableConv2D(3x3 same, no bias) -> BatchNormalization."""

    def __init__(self, cin, cout, pre_relu):
        super().__init__()
        self.pre_relu = pre_relu
        self.depthwise = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=1e-3)

    def forward(self, x):
        if self.pre_relu:
            x = F.relu(x)
        return self.bn(self.pointwise(self.depthwise(x)))


class DownBlock(nn.Module):
    """Blocks 2-4 and 13: two separable convs, max pool, plus BN(conv1x1 stride 2) of the input."""

    def __init__(self, cin, c1, c2, pre_relu1):
        super().__init__()
        self.sep1 = SepConvBN(cin, c1, pre_relu1)
        self.sep2 = SepConvBN(c1, c2, True)
        self.pool = MaxPoolSame()
        self.res = nn.Conv2d(cin, c2, 1, stride=2, bias=False)  # 'same' pads nothing for a 1x1 kernel
        self.res_bn = nn.BatchNorm2d(c2, eps=1e-3)

    def forward(self, x):
        return self.pool(self.sep2(self.sep1(x))) + self.res_bn(self.res(x))


class MiddleBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.seps = nn.Sequential(SepConvBN(c, c, True), SepConvBN(c, c, True), SepConvBN(c, c, True))

    def forward(self, x):
        return x + self.seps(x)


class KerasXception(nn.Module):
    def __init__(self, classes=1000):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 32, 3, stride=2, bias=False), nn.BatchNorm2d(32, eps=1e-3), nn.ReLU(),
            nn.Conv2d(32, 64, 3, bias=False), nn.BatchNorm2d(64, eps=1e-3), nn.ReLU())
        self.entry = nn.Sequential(DownBlock(64, 128, 128, False), DownBlock(128, 256, 256, True), DownBlock(256, 728, 728, True))
        self.middle = nn.Sequential(*[MiddleBlock(728) for _ in range(8)])
        self.exit = DownBlock(728, 728, 1024, True)
        self.sep14a = SepConvBN(1024, 1536, False)
        self.sep14b = SepConvBN(1536, 2048, False)
        self.fc = nn.Linear(2048, classes)

    def forward(self, x):
        x = self.exit(self.middle(self.entry(self.stem(x))))
        x = F.relu(self.sep14b(F.relu(self.sep14a(x))))
        return F.softmax(self.fc(x.mean(dim=(2, 3))), dim=1)


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
    model = KerasXception().eval().to(memory_format=torch.channels_last)
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
