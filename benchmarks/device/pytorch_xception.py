#!/usr/bin/env python3
"""PyTorch + cuDNN peer for the jxception CUDA benchmark, run on the same card in the same call.

Builds the Keras Xception (keras/src/applications/xception.py) in torch: same layers, channel counts
and shapes (299 -> 149 -> 147 -> 74 -> 37 -> 19 -> 10). Max pools use padding=1; TensorFlow's
'same' pads only bottom/right on even sizes, which moves windows but not shapes or FLOPs, so the
timings compare. timm's legacy_xception (the original paper's layout) is timed beside it.

Modes: fp32 eager (TF32 matmuls and convolutions disabled), tf32, and AMP bf16 (autocast), all in
channels_last with torch.backends.cudnn.benchmark = True. Each (model, mode, batch) is warmed up and
then timed with CUDA events; the median is reported. Also measures the card's two ceilings: device
copy bandwidth and a bf16 8192^3 matrix product.

Usage: pytorch_xception.py --csv out.csv [--batches 1,32,256] [--reps 20] [--seconds 80]
"""
import argparse
import os
import statistics
import sys
import time

import torch
import torch.nn as nn


# The network itself is the suite's peer (benchmarks/peers/pytorch_xception.py): one PyTorch Keras-Xception.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))
from pytorch_xception import Xception  # noqa: E402


def KerasXception():
    return Xception(299)


def params(model):
    return sum(p.numel() for p in model.parameters()) + sum(b.numel() for n, b in model.named_buffers() if "running" in n)


def time_ms(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    out = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        out.append(a.elapsed_time(b))
    return statistics.median(out)


def ceilings():
    x = torch.empty(1 << 28, dtype=torch.float32, device="cuda").normal_()  # 1 GiB
    y = torch.empty_like(x)
    ms = time_ms(lambda: y.copy_(x), 3, 10)
    copy_gbs = 2 * x.numel() * 4 / (ms * 1e6)
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    ms = time_ms(lambda: a @ b, 3, 10)
    tflops = 2 * 8192 ** 3 / (ms * 1e9)
    del x, y, a, b
    torch.cuda.empty_cache()
    return copy_gbs, tflops


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default="pytorch.csv")
    ap.add_argument("--batches", default="1,32,256")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=80)
    ap.add_argument("--modes", default="fp32,tf32,bf16-amp", help="comma list of fp32, tf32, bf16-amp")
    ap.add_argument("--models", default="keras,timm", help="comma list of keras, timm")
    args = ap.parse_args()
    deadline = time.time() + args.seconds
    torch.backends.cudnn.benchmark = True
    dev = torch.cuda.get_device_name(0)
    copy_gbs, bf16_tflops = ceilings()
    print(f"# {dev}, torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}: copy {copy_gbs:.0f} GB/s, bf16 GEMM {bf16_tflops:.0f} TFLOP/s")
    batches = [int(b) for b in args.batches.split(",")]
    rows = [("ceiling", dev, "", "", "copy_bandwidth", "", "", f"{copy_gbs:.1f}", "", "device-to-device copy, read+write"),
            ("ceiling", dev, "bf16", "", "matmul_8192", "", "", "", f"{bf16_tflops:.1f}", "torch bf16 matmul")]
    summary = []
    wanted = set(args.models.split(","))
    models = [("keras-xception", lambda: KerasXception())] if "keras" in wanted else []
    if "timm" in wanted:
        try:
            import timm
            models.append(("timm-legacy_xception", lambda: timm.create_model("legacy_xception", pretrained=False)))
        except Exception as e:  # timm missing: report and go on
            print(f"# timm unavailable: {e}")
    gflop_per_image = 2 * 8.36  # Keras Xception: 8.36 GMACs per 299x299 image
    for name, make in models:
        model = make().cuda().eval().to(memory_format=torch.channels_last)
        print(f"# {name}: {params(model):,} parameters")
        for mode in args.modes.split(","):
            if name.startswith("timm") and mode == "tf32":
                continue
            torch.backends.cuda.matmul.allow_tf32 = mode == "tf32"
            torch.backends.cudnn.allow_tf32 = mode == "tf32"
            for batch in batches:
                if time.time() > deadline:
                    print(f"# time budget spent: skipping {name} {mode} {batch}")
                    continue
                x = torch.rand(batch, 3, 299, 299, device="cuda").mul_(2).sub_(1).contiguous(memory_format=torch.channels_last)

                def run():
                    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=mode == "bf16-amp"):
                        return model(x)

                try:
                    ms = time_ms(run, 5, args.reps if batch < 256 else max(5, args.reps // 2))
                except torch.cuda.OutOfMemoryError as e:
                    print(f"# {name} {mode} {batch}: out of memory ({e})")
                    continue
                ips = batch / (ms / 1e3)
                rows.append(("pytorch", dev, mode, batch, name, f"{ms:.4f}", f"{ips:.1f}", "", f"{gflop_per_image * batch / ms:.2f}", "channels_last cudnn.benchmark"))
                line = f"{name:22s} {mode:8s} batch {batch:4d} {ms:9.3f} ms {ips:9.0f} img/s"
                summary.append(line)
                print(line, flush=True)
                del x
        del model
        torch.cuda.empty_cache()
    with open(args.csv, "w") as f:
        f.write("kind,device,precision,batch,what,median_ms,images_per_s,gbytes_per_s,tflops,detail\n")
        for r in rows:
            f.write(",".join(str(v) for v in r) + "\n")
    print(f"PyTorch peer ({args.csv}):")
    for line in summary:
        print(line)


if __name__ == "__main__":
    sys.exit(main())
