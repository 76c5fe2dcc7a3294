#!/usr/bin/env python3
"""Projects data-parallel training of Xception to N GPUs from the gradient size jxception measured.

Model (the standard alpha-beta cost of a ring allreduce, Patarasuk & Yuan 2009; Thakur et al. 2005):

    t_allreduce(N) = 2 (N-1)/N * bytes / bandwidth  +  2 (N-1) * latency * buckets
    t_staging      = 2 * bytes / staging_bandwidth          (host-staged MPI: device -> host, host -> device)

    no overlap:      t_step = t_compute + t_staging + t_allreduce
    overlap:         t_step = max(t_compute, t_staging + t_allreduce - t_last) + t_last
                     (every bucket but the last hides behind the backward pass; t_last = the last
                      bucket's share of the exchange, which nothing can hide)

    efficiency = t_compute / t_step;   images/s = N * batch / t_step

bytes comes from a benchmarks/mpi/run.sh result (the "MB summed per step" every rank printed for
the full network), else 22,910,480 fp32 gradients = 91.64 MB. Everything else is stated on the
command line, with defaults named below. No number is measured here: this is arithmetic on the
measured gradient size and the stated machine.

    benchmarks/mpi/scaling.py [--results benchmarks/results/mpi-opencl-DATE.txt] [--bandwidth-gbs 50]
        [--latency-us 5] [--staging-gbs 25] [--step-ms 424] [--batch 128] [--gpus 8,64,512]
"""
import argparse
import math
import re
import sys

FULL_GRADIENT_BYTES = 22_910_480 * 4   # Xception with the top: 22,910,480 fp32 parameters
BUCKET_BYTES = 25 * 1024 * 1024        # jxception's default bucket (PyTorch DDP's)


def measured_bytes(path):
    """The largest "N MB summed per step" in a run.sh result (the full network), in bytes: gradients
    and moving statistics; runs with --sync-bn are left out (their count adds the batch-norm sums)."""
    sizes = []
    sync_bn = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("## "):
                sync_bn = "--sync-bn" in line
            m = re.search(r"; ([0-9.]+) MB summed per step", line)
            if m and not sync_bn:
                sizes.append(float(m.group(1)) * 1e6)
    if not sizes:
        sys.exit(f"{path}: no 'MB summed per step' line (is it benchmarks/mpi/run.sh output?)")
    return max(sizes)


def project(n, grad_bytes, bandwidth, latency, staging, compute, buckets):
    ring = 2 * (n - 1) / n * grad_bytes / bandwidth + 2 * (n - 1) * latency * buckets if n > 1 else 0.0
    stage = 2 * grad_bytes / staging if n > 1 else 0.0
    exchange = ring + stage
    last = exchange / buckets
    serial = compute + exchange
    overlapped = max(compute, exchange - last) + last if n > 1 else compute
    return ring, stage, serial, overlapped


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--results", help="a benchmarks/mpi/run.sh result to read the gradient size from")
    p.add_argument("--bandwidth-gbs", type=float, default=50.0,
                   help="network bandwidth per GPU in GB/s (default 50: one 400 Gb/s NDR InfiniBand port per GPU)")
    p.add_argument("--latency-us", type=float, default=5.0, help="latency of one ring step in microseconds (default 5)")
    p.add_argument("--staging-gbs", type=float, default=25.0,
                   help="device<->host copy bandwidth in GB/s for host-staged MPI (default 25: pinned PCIe Gen5 x16, half its peak)")
    p.add_argument("--step-ms", type=float, default=424.0,
                   help="per-GPU compute time of one step in ms (default 424: jxception bf16 batch 128 at 299x299 on an H200, "
                        "302 img/s, DESIGN.md 2026-12-04; timm AMP does the same batch in 72 ms)")
    p.add_argument("--batch", type=int, default=128, help="images per GPU per step (default 128)")
    p.add_argument("--gpus", default="8,64,512", help="GPU counts (default 8,64,512)")
    a = p.parse_args()

    grad_bytes = measured_bytes(a.results) if a.results else FULL_GRADIENT_BYTES
    buckets = math.ceil(grad_bytes / BUCKET_BYTES)
    bw, lat, stg, compute = a.bandwidth_gbs * 1e9, a.latency_us * 1e-6, a.staging_gbs * 1e9, a.step_ms * 1e-3
    print(f"gradient {grad_bytes / 1e6:.2f} MB per step ({'measured: ' + a.results if a.results else '22,910,480 fp32'}), "
          f"{buckets} buckets; network {a.bandwidth_gbs:g} GB/s per GPU, {a.latency_us:g} us per ring step; "
          f"staging {a.staging_gbs:g} GB/s; compute {a.step_ms:g} ms per step of {a.batch} images per GPU")
    print()
    print("| GPUs | ring allreduce (ms) | staging (ms) | step, no overlap (ms) | efficiency | step, overlap (ms) | efficiency | img/s (overlap) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in [1] + [int(x) for x in a.gpus.split(",")]:
        ring, stage, serial, overlapped = project(n, grad_bytes, bw, lat, stg, compute, buckets)
        print(f"| {n} | {ring * 1e3:.1f} | {stage * 1e3:.1f} | {serial * 1e3:.1f} | {compute / serial:.1%} | "
              f"{overlapped * 1e3:.1f} | {compute / overlapped:.1%} | {n * a.batch / overlapped:,.0f} |")


if __name__ == "__main__":
    main()
