#!/usr/bin/env python3
"""PyTorch training peer for jxception's CudaTrainingBenchmark: one SGD step of Xception, timed like ours.

What one step is, as in io.jxception.internal.backend.cuda.CudaTrainingBenchmark: the batch's images
(float32, NHWC values in [-1, 1]) and labels reach the device, forward in training mode (BatchNorm batch
statistics), softmax cross-entropy, backward, SGD with momentum 0.9, weight decay 1e-5 (PyTorch's SGD
adds it to every parameter's gradient; ours to kernels only: ~1% of the optimizer's arithmetic, no
measurable time) and lr 1e-3, then a synchronize; the step is timed by the wall clock around all of it,
after --warmup untimed steps; the median of --iterations steps gives images/s.
  --data host    (default, what ours does) the batch is copied from host memory every step: a pinned
                 float32 tensor, copied with non_blocking=True (what a DataLoader with pin_memory gives)
  --data device  the batch is already on the device (PyTorch benchmarks often time this)
Models (--model): timm (legacy_xception, the model people train; default) or keras (our Keras-exact
port from pytorch_xception.py). Both NHWC memory (channels_last), cudnn.benchmark, random weights.
Precisions: fp32 (TF32 off), tf32, bf16 and fp16 (torch.autocast with fp32 weights; fp16 with
torch.cuda.amp.GradScaler, whose step reads the inf check on the host as ours reads its flag).

Prints a JSON object on stdout after every result (a caller that kills a slow run keeps the last
complete line), progress on stderr:
  {"peer": "pytorch-train", "model": "timm legacy_xception", "timm": "...", "torch": "2.11.0", "device": "cuda",
   "device_name": ..., "size": 299, "parameters": 22910480, "optimizer": "SGD lr 0.001 momentum 0.9 wd 1e-05",
   "results": [{"precision": "bf16", "batch": 128, "data": "host", "median_step_ms": ..., "images_per_second": ...,
                "min_step_ms": ..., "max_step_ms": ..., "steps": 10, "first_step_s": ..., "peak_mib": ...}, ...]}
(a failed row has "error" instead of the times). No torch, timm or device: {"unavailable": "<why>"},
exit status 3.

  python3 benchmarks/peers/pytorch_train.py --device cuda --precision bf16,fp32 --batch 32,128
  python3 benchmarks/peers/pytorch_train.py --device cpu --model keras --size 71 --batch 2 --iterations 2
"""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import pytorch_xception as px  # noqa: E402  (the models, build_model, keras_parameter_count)
except ImportError as e:  # no torch: the caller still gets JSON
    print(json.dumps({"unavailable": "python module torch not found for %s (%s); on Debian: apt-get install -y python3-torch"
                      % (sys.executable, e)}))
    sys.exit(3)

torch = px.torch
nn = px.nn

LR, MOMENTUM, WEIGHT_DECAY = 1e-3, 0.9, 1e-5   # CudaTrainingBenchmark's sgdStep(1e-3f, 0.9f, 1e-5f)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cuda", choices=["cpu", "cuda"])
    p.add_argument("--model", default="timm", choices=sorted(px.MODELS))
    p.add_argument("--precision", default="bf16", help="comma list of fp32, tf32, bf16, fp16")
    p.add_argument("--batch", default="32", help="comma list of batch sizes")
    p.add_argument("--data", default="host", help="comma list of host, device")
    p.add_argument("--size", type=int, default=299)
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--seconds", type=float, default=0, help="stop timing a row after this many seconds (at least 3 steps); 0: no limit")
    a = p.parse_args()
    a.batches = [int(b) for b in a.batch.split(",") if b]
    a.precisions = [s.strip().lower() for s in a.precision.split(",") if s.strip()]
    a.datas = [s.strip().lower() for s in a.data.split(",") if s.strip()]
    for s in a.precisions:
        if s not in ("fp32", "tf32", "bf16", "fp16"):
            p.error("unknown precision %r: expected fp32, tf32, bf16 or fp16" % s)
    for d in a.datas:
        if d not in ("host", "device"):
            p.error("unknown data placement %r: expected host or device" % d)
    if a.size < 71:
        p.error("size %d is too small: Xception needs at least 71" % a.size)
    if a.iterations < 1 or a.warmup < 0 or not a.batches or any(b < 1 for b in a.batches):
        p.error("iterations must be >= 1, warmup >= 0, batches >= 1")
    return a


def train_steps(model, a, precision, batch, data, device):
    """(seconds of the first step, [seconds per timed step], peak device MiB or None) for one row."""
    cuda = a.device == "cuda"
    autocast_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    scaler = torch.cuda.amp.GradScaler() if precision == "fp16" and cuda else None
    loss_fn = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(batch)
    host_x = (torch.rand(batch, 3, a.size, a.size, generator=g) * 2 - 1).contiguous(memory_format=torch.channels_last)
    host_y = torch.randint(0, 1000, (batch,), generator=g)
    if cuda and data == "host":
        host_x, host_y = host_x.pin_memory(), host_y.pin_memory()
    dev_x = host_x.to(device) if data == "device" else None
    dev_y = host_y.to(device) if data == "device" else None

    def sync():
        if cuda:
            torch.cuda.synchronize()

    def step():
        x = dev_x if dev_x is not None else host_x.to(device, non_blocking=True)
        y = dev_y if dev_y is not None else host_y.to(device, non_blocking=True)
        opt.zero_grad(set_to_none=True)
        if autocast_dtype is None:
            loss = loss_fn(model(x), y)
        else:
            with torch.autocast(device_type=a.device, dtype=autocast_dtype):
                loss = loss_fn(model(x), y)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()
        sync()

    model.train()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    sync()
    t0 = time.perf_counter()
    step()
    first = time.perf_counter() - t0
    for _ in range(max(0, a.warmup - 1)):
        step()
    times = []
    stop = time.perf_counter() + a.seconds if a.seconds > 0 else None
    for i in range(a.iterations):
        if stop is not None and i >= 3 and time.perf_counter() > stop:
            break
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    peak = torch.cuda.max_memory_allocated() / 2 ** 20 if cuda else None
    return first, times, peak


def main():
    a = parse_args()
    device, device_name = px.open_device(a)
    fields = {"peer": "pytorch-train", "model": px.MODELS[a.model]}
    results = []

    def report():
        print(json.dumps(dict(fields, results=results)), flush=True)

    for precision in a.precisions:
        if a.device == "cuda":
            tf32 = precision == "tf32"
            torch.backends.cuda.matmul.allow_tf32 = tf32
            torch.backends.cudnn.allow_tf32 = tf32
        for batch in a.batches:
            for data in a.datas:
                # a fresh model per row: the same starting weights and optimizer state for every row
                torch.manual_seed(0)
                model, head = px.build_model(a.model, a.size)
                model = model.to(device=device, memory_format=torch.channels_last)
                if not results:
                    fields.update(head)
                    fields.update({"torch": torch.__version__, "device": a.device, "device_name": device_name, "size": a.size,
                                   "parameters": px.keras_parameter_count(model),
                                   "optimizer": "SGD lr %g momentum %g wd %g" % (LR, MOMENTUM, WEIGHT_DECAY)})
                print("pytorch-train %s %s %s batch %d data on %s" % (a.device, px.MODELS[a.model], precision, batch, data),
                      file=sys.stderr, flush=True)
                row = {"precision": precision, "batch": batch, "data": data}
                try:
                    first, t, peak = train_steps(model, a, precision, batch, data, device)
                    med = statistics.median(t)
                    row.update({"median_step_ms": med * 1e3, "images_per_second": batch / med, "min_step_ms": min(t) * 1e3,
                                "max_step_ms": max(t) * 1e3, "steps": len(t), "first_step_s": first})
                    if peak is not None:
                        row["peak_mib"] = round(peak)
                except Exception as e:  # out of memory, an unsupported autocast type ...
                    row["error"] = (type(e).__name__ + ": " + str(e)).split("\n")[0][:500]
                del model
                if a.device == "cuda":
                    torch.cuda.empty_cache()
                results.append(row)
                report()
    if not results:
        report()


if __name__ == "__main__":
    main()
