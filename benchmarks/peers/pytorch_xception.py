#!/usr/bin/env python3
"""PyTorch peer for the jxception benchmark suite: Xception forward in PyTorch, timed like ours.

Two models (--model):
  keras  our port of keras/src/applications/xception.py, layer for layer (eval, no_grad, BatchNorm
         eps 1e-3, TensorFlow 'same' padding; ends in softmax): the network jxception runs.
  timm   timm.create_model('legacy_xception', pretrained=False): the PyTorch Xception people run and
         publish numbers for (Cadene's port of the Keras weights; PyTorch symmetric padding, which at
         299x299 gives the same shapes and FLOPs; ends in logits). It expects 299x299 inputs
         normalised with mean = std = 0.5, i.e. values in [-1, 1] as Keras' preprocessing gives: the
         peer times the forward alone on random values in [-1, 1], so preprocessing does not matter.
Both use random weights (speed does not depend on the values), NHWC memory (channels_last) and
torch.backends.cudnn.benchmark on CUDA. Both report the parameter count the Keras way (weights plus
BatchNorm moving mean and variance): 22,910,480 for Xception.

Modes (--modes, comma list):
  eager                               the module as built
  compile                             torch.compile(model, dynamic=False), mode "default"
  compile:max-autotune-no-cudagraphs  torch.compile(model, mode="max-autotune-no-cudagraphs", dynamic=False)
(--compile is --modes eager,compile.) Each (mode, precision) compiles one callable, used for every
batch size: dynamo keeps one specialised graph per batch size in its cache (its limit is raised to
hold them all), and inductor's on-disk caches (FX graphs, autotuning results) are shared by every
graph and every later process. The first call at each batch size compiles: its wall time (compile +
one forward) is reported as "first_call_s"; then --warmup more untimed calls. In eager mode the
first call is the first of the --warmup calls (cudnn.benchmark picks its algorithms there).
Precisions: fp32 (strict: TF32 off on CUDA), tf32 (CUDA matmul and cuDNN TF32 on), bf16 / fp16
(torch.autocast, fp32 weights). Then --iterations timed calls on an input already on the device:
CUDA events around each on the GPU, perf_counter after the pass on the CPU; the median is reported,
as the Java suite does.

Prints the JSON object below on stdout (progress on stderr), once after every result with the
results so far and once at the end: a caller that kills a slow run (torch.compile can take minutes)
keeps what finished by reading the last complete line.
  {"peer": "pytorch", "model": "keras-port", "torch": "1.13.1", "device": "cpu", "device_name": ...,
   "threads": 2, "size": 299, "parameters": 22910480,
   "results": [{"mode": "eager", "precision": "fp32", "batch": 1, "median_ms": ..., "min_ms": ...,
                "max_ms": ..., "samples": 10, "images_per_second": ..., "first_call_s": ...}, ...]}
  ("model" is "timm legacy_xception" with a "timm" version field for --model timm; a result that
  failed has "error" instead of the times.)
When torch, timm (for --model timm) or the device is missing: {"unavailable": "<why>"} and exit
status 3.

  python3 benchmarks/peers/pytorch_xception.py --device cpu --threads 2 --batch 1,8 --size 299
  python3 benchmarks/peers/pytorch_xception.py --device cuda --model timm --precision bf16 --batch 256,32 \
      --modes compile,compile:max-autotune-no-cudagraphs
"""
import argparse
import json
import platform
import statistics
import sys
import time

MODES = ("eager", "compile", "compile:max-autotune-no-cudagraphs")
MODELS = {"keras": "keras-port", "timm": "timm legacy_xception"}


def unavailable(why):
    print(json.dumps({"unavailable": why}))
    sys.exit(3)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--model", default="keras", choices=sorted(MODELS), help="keras (our port, default) or timm (legacy_xception)")
    p.add_argument("--precision", default="fp32", help="comma list of fp32, tf32, bf16, fp16")
    p.add_argument("--batch", default="1", help="comma list of batch sizes")
    p.add_argument("--size", type=int, default=299, help="input height = width (>= 71)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--modes", default="eager", help="comma list of " + ", ".join(MODES))
    p.add_argument("--compile", action="store_true", help="same as --modes eager,compile")
    a = p.parse_args()
    a.modes = ["eager", "compile"] if a.compile else [m.strip() for m in a.modes.split(",") if m.strip()]
    for m in a.modes:
        if m not in MODES:
            p.error("unknown mode %r: expected one of %s" % (m, ", ".join(MODES)))
    a.batches = [int(b) for b in a.batch.split(",") if b]
    a.precisions = [s.strip().lower() for s in a.precision.split(",") if s.strip()]
    for s in a.precisions:
        if s not in ("fp32", "tf32", "bf16", "fp16"):
            p.error("unknown precision %r: expected fp32, tf32, bf16 or fp16" % s)
    if a.size < 71:
        p.error("size %d is too small: Xception needs at least 71" % a.size)
    if a.iterations < 1 or a.warmup < 0 or any(b < 1 for b in a.batches):
        p.error("iterations must be >= 1, warmup >= 0, batches >= 1")
    return a


try:
    import torch
    from torch import nn
except ImportError as e:  # before parse_args so the suite always gets JSON
    if __name__ == "__main__":
        unavailable("python module torch not found for %s (%s); on Debian: apt-get install -y python3-torch"
                    % (sys.executable, e))
    raise


def bn(c):
    # Keras BatchNormalization(epsilon=1e-3, momentum=0.99)
    return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)


class SeparableConv(nn.Module):
    """Keras SeparableConv2D(k=3, 'same', use_bias=False): depthwise 3x3 then pointwise 1x1."""

    def __init__(self, cin, cout):
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


def max_pool_same(size):
    """MaxPooling2D(3, strides=2, padding='same') on a size x size input, as TensorFlow pads:
    total = max((out-1)*2 + 3 - size, 0) with the extra pixel at the bottom/right. Odd sizes pad
    1 on both sides; even sizes pad only the far side, which is ceil_mode without padding."""
    if size % 2 == 1:
        return nn.MaxPool2d(3, 2, padding=1)
    return nn.MaxPool2d(3, 2, padding=0, ceil_mode=True)


class DownBlock(nn.Module):
    """Blocks 2, 3, 4, 13: [relu] sep BN relu sep BN maxpool  +  BN(conv1x1 stride 2 (x))."""

    def __init__(self, cin, c1, c2, pre_relu, size):
        super().__init__()
        self.pre_relu = pre_relu
        self.sep1, self.bn1 = SeparableConv(cin, c1), bn(c1)
        self.sep2, self.bn2 = SeparableConv(c1, c2), bn(c2)
        self.pool = max_pool_same(size)
        # 1x1 stride-2 'same' never pads: (ceil(s/2)-1)*2 + 1 <= s
        self.res_conv, self.res_bn = nn.Conv2d(cin, c2, 1, stride=2, bias=False), bn(c2)

    def forward(self, x):
        r = self.res_bn(self.res_conv(x))
        y = torch.relu(x) if self.pre_relu else x
        y = torch.relu(self.bn1(self.sep1(y)))
        y = self.pool(self.bn2(self.sep2(y)))
        return y + r


class MiddleBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.seps = nn.ModuleList([SeparableConv(c, c) for _ in range(3)])
        self.bns = nn.ModuleList([bn(c) for _ in range(3)])

    def forward(self, x):
        y = x
        for sep, b in zip(self.seps, self.bns):
            y = b(sep(torch.relu(y)))
        return y + x


class Xception(nn.Module):
    """keras.applications.Xception(include_top=True, classes=1000) at size x size input."""

    def __init__(self, size=299, classes=1000, middle_repeats=8):
        super().__init__()
        s = (size - 3) // 2 + 1  # block1_conv1: 3x3 stride 2 'valid'
        self.conv1, self.bn1 = nn.Conv2d(3, 32, 3, stride=2, bias=False), bn(32)
        s = s - 2                # block1_conv2: 3x3 'valid'
        self.conv2, self.bn2 = nn.Conv2d(32, 64, 3, bias=False), bn(64)
        self.block2 = DownBlock(64, 128, 128, False, s)
        s = (s + 1) // 2
        self.block3 = DownBlock(128, 256, 256, True, s)
        s = (s + 1) // 2
        self.block4 = DownBlock(256, 728, 728, True, s)
        s = (s + 1) // 2
        self.middle = nn.Sequential(*[MiddleBlock(728) for _ in range(middle_repeats)])
        self.block13 = DownBlock(728, 728, 1024, True, s)
        self.sep14a, self.bn14a = SeparableConv(1024, 1536), bn(1536)
        self.sep14b, self.bn14b = SeparableConv(1536, 2048), bn(2048)
        self.fc = nn.Linear(2048, classes)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        x = self.block4(self.block3(self.block2(x)))
        x = self.block13(self.middle(x))
        x = torch.relu(self.bn14a(self.sep14a(x)))
        x = torch.relu(self.bn14b(self.sep14b(x)))
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return torch.softmax(self.fc(x), dim=1)


def keras_parameter_count(model):
    """Keras counts BN moving mean and variance as (non-trainable) weights."""
    n = sum(p.numel() for p in model.parameters())
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n += m.running_mean.numel() + m.running_var.numel()
    return n


def build_model(name, size):
    """(module, fields for the JSON head): the Keras port, or timm's legacy_xception (random weights)."""
    if name == "keras":
        return Xception(size), {}
    try:
        import timm
    except ImportError as e:
        unavailable("timm not installed for %s (%s): the timm legacy_xception peer needs it (pip install timm)"
                    % (sys.executable, e))
    try:
        model = timm.create_model("legacy_xception", pretrained=False)
    except Exception as e:  # an old timm without the model, a broken install
        unavailable("timm %s cannot build legacy_xception: %s" % (getattr(timm, "__version__", "?"), str(e).split("\n")[0]))
    return model, {"timm": getattr(timm, "__version__", "?")}


def forward_runs(fn, x, device, warmup, iterations, first_untimed):
    """(seconds of the first call, seconds per timed forward). The first call is timed on the wall
    clock (it compiles under torch.compile); `warmup` more calls follow it when `first_untimed` (a
    compiled callable's first call is no warm-up of the compiled code), else it is the first of them.
    Timed calls: CUDA events on the GPU, perf_counter after the pass on the CPU."""
    def sync():
        if device == "cuda":
            torch.cuda.synchronize()
    with torch.no_grad():
        sync()
        t0 = time.perf_counter()
        fn(x)
        sync()
        first = time.perf_counter() - t0
        for _ in range(warmup if first_untimed else max(0, warmup - 1)):
            fn(x)
        sync()
        out = []
        for _ in range(iterations):
            if device == "cuda":
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                fn(x)
                end.record()
                end.synchronize()
                out.append(start.elapsed_time(end) / 1000.0)
            else:
                t0 = time.perf_counter()
                fn(x)
                out.append(time.perf_counter() - t0)
    return first, out


def compiled(model, mode):
    """torch.compile for a mode of MODES; one callable serves every batch size (static shapes)."""
    config = torch._dynamo.config
    for limit in ("recompile_limit", "cache_size_limit"):  # one graph per batch size, all kept (the name changed in torch 2.6)
        try:
            setattr(config, limit, max(getattr(config, limit), 64))
            break
        except (AttributeError, TypeError):
            continue
    torch._dynamo.reset()
    compile_mode = mode.split(":", 1)[1] if ":" in mode else "default"
    return torch.compile(model, mode=compile_mode, dynamic=False)


def open_device(a):
    """(torch.device, its name) for a.device, after a.threads and seed 0; cudnn.benchmark on CUDA.
    No CUDA device: {"unavailable"} and exit 3. Shared with pytorch_train.py."""
    if a.device == "cuda" and not torch.cuda.is_available():
        unavailable("torch %s sees no CUDA device" % torch.__version__)
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.device == "cuda":
        torch.backends.cudnn.benchmark = True
        return torch.device("cuda"), torch.cuda.get_device_name(0)
    device_name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [l.split(":", 1)[1].strip() for l in f if l.startswith("model name")]
        if names:
            device_name = names[0]
    except OSError:
        pass
    return torch.device("cpu"), device_name


def main():
    a = parse_args()
    device, device_name = open_device(a)
    model, head = build_model(a.model, a.size)
    model = model.eval().to(device=device, memory_format=torch.channels_last)
    modes = [m for m in a.modes if m == "eager" or hasattr(torch, "compile")]
    for m in a.modes:
        if m not in modes:
            print("torch %s has no torch.compile; skipping %s" % (torch.__version__, m), file=sys.stderr)
    if not modes:
        unavailable("torch %s has none of the modes asked: %s" % (torch.__version__, ",".join(a.modes)))

    results = []
    fields = {"peer": "pytorch", "model": MODELS[a.model]}
    fields.update(head)
    fields.update({"torch": torch.__version__, "device": a.device, "device_name": device_name,
                   "threads": torch.get_num_threads(), "size": a.size, "parameters": keras_parameter_count(model)})

    def report():
        print(json.dumps(dict(fields, results=results)), flush=True)
    for precision in a.precisions:
        if a.device == "cuda":
            tf32 = precision == "tf32"
            torch.backends.cuda.matmul.allow_tf32 = tf32
            torch.backends.cudnn.allow_tf32 = tf32
        autocast_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
        for mode in modes:
            net = model if mode == "eager" else compiled(model, mode)

            def forward(x, net=net):
                if autocast_dtype is None:
                    return net(x)
                with torch.autocast(device_type=a.device, dtype=autocast_dtype):
                    return net(x)

            for batch in a.batches:
                print("pytorch %s %s %s %s batch %d%s" % (a.device, MODELS[a.model], mode, precision, batch,
                                                          "" if mode == "eager" else " (compiling)"), file=sys.stderr, flush=True)
                row = {"mode": mode, "precision": precision, "batch": batch}
                x = (torch.rand(batch, 3, a.size, a.size, device=device) * 2 - 1).contiguous(memory_format=torch.channels_last)
                try:
                    first, t = forward_runs(forward, x, a.device, a.warmup, a.iterations, mode != "eager")
                except Exception as e:  # out of memory, unsupported autocast type, a compiler error ...
                    row["error"] = (type(e).__name__ + ": " + str(e)).split("\n")[0][:500]
                    results.append(row)
                    del x
                    if a.device == "cuda":
                        torch.cuda.empty_cache()
                    report()
                    continue
                median = statistics.median(t)
                row.update({"median_ms": median * 1e3, "min_ms": min(t) * 1e3, "max_ms": max(t) * 1e3,
                            "samples": len(t), "images_per_second": batch / median, "first_call_s": first})
                results.append(row)
                del x
                report()
    report()


if __name__ == "__main__":
    main()
