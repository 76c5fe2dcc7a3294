#!/usr/bin/env python3
"""cuDNN per layer for the jxception benchmark suite: each fused launch's equivalent in PyTorch eager.

jxception runs Xception as 45 fused launches (stem convs, separable convs, 1x1 residual convs,
max-pool + add, head). For each, `jxception bench` sends its geometry on stdin and this script times
the same computation as PyTorch eager runs it, on NHWC (channels_last) tensors:
  conv_bn_relu       F.conv2d 3x3 'valid' (stride s) -> F.batch_norm -> relu
  sepconv_bn         [relu] -> F.conv2d depthwise 3x3 'same' (groups = Cin) -> F.conv2d 1x1 -> F.batch_norm
                     -> [+ residual] -> [relu]
  conv1x1s2_bn       F.conv2d 1x1 stride 2 -> F.batch_norm
  maxpool_add        F.max_pool2d 3x3 stride 2, TensorFlow 'same' padding -> + residual
  gap_dense_softmax  adaptive_avg_pool2d -> linear -> softmax (or the global pool alone without a top)
On CUDA the convolutions are cuDNN's (torch.backends.cudnn.benchmark picks each algorithm during the
warm-up); batch norm, ReLU, add and pooling are PyTorch's own elementwise kernels, each a launch of
its own. So a row is "what cuDNN plus eager PyTorch take for this launch's work", our one fused
launch against several of theirs. Precisions: fp32 (strict, TF32 off), tf32 (cuDNN TF32 on), bf16 /
fp16 (every tensor in that type; batch norm's statistics too). Inputs and weights are random (never
zeros) and allocated once per launch; each launch is timed alone, repeatedly on the same input (its
data may stay in L2 where it fits: our per-launch times come from whole forwards instead). Times:
CUDA events around the whole sequence (perf_counter on the CPU), `warmup` untimed calls, then the
median of `iterations`. Launches with the same geometry (the middle flow's) are timed once.

stdin:  {"layers": [{"index": 0, "node": "block1_conv1", "kernel": "conv_bn_relu", "n": 1, "h": 299, "w": 299,
                     "cin": 3, "cout": 32, "stride": 2, "pre_relu": false, "post_relu": true, "residual": false}, ...,
                    {"index": 9, "node": "block2_pool", "kernel": "maxpool_add", "n": 1, "h": 147, "w": 147, "c": 128},
                    {"index": 44, "node": "predictions", "kernel": "gap_dense_softmax", "n": 1, "h": 10, "w": 10,
                     "channels": 2048, "dense": true, "pooling": "avg", "classes": 1000}],
         "precisions": ["fp32", "bf16"], "warmup": 3, "iterations": 20}
stdout: {"peer": "cudnn_layers", "library": "torch 2.11.0+cu130 eager (cuDNN 91500, CUDA 13.0)", "device": "cuda",
         "device_name": ..., "results": [{"index": 0, "node": ..., "precision": "fp32", "ops": "conv2d 3x3/2, batch_norm, relu",
         "median_ms": ..., "min_ms": ..., "max_ms": ..., "samples": 20}, ...]}
         printed again after every precision with the results so far; a launch that failed has
         "error" instead of the times; {"unavailable": "<why>"} and exit status 3 without torch or a
         CUDA device.

  python3 -c 'import json; print(json.dumps({"layers": [{"index": 0, "node": "x", "kernel": "conv1x1s2_bn", "n": 1,
      "h": 19, "w": 19, "cin": 728, "cout": 1024, "stride": 2}], "precisions": ["fp32"]}))' | \
      python3 benchmarks/peers/cudnn_layers.py --device cpu
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
    import torch.nn.functional as F
except ImportError as e:  # before anything else so the suite always gets JSON
    if __name__ == "__main__":
        unavailable("python module torch not found for %s (%s)" % (sys.executable, e))
    raise

DTYPES = {"fp32": torch.float32, "tf32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
EPS = 1e-3  # Keras BatchNormalization


def max_pool_same(x):
    """MaxPooling2D(3, strides=2, padding='same'): odd sizes pad 1 on both sides; even sizes pad only
    the far side, which is ceil_mode without padding."""
    if x.shape[-1] % 2 == 1:
        return F.max_pool2d(x, 3, 2, padding=1)
    return F.max_pool2d(x, 3, 2, padding=0, ceil_mode=True)


def nhwc(shape, dtype, device, gen, scale=1.0):
    """Random values in [-scale, scale], logical NCHW, channels_last memory (NHWC)."""
    t = (torch.rand(*shape, device=device, generator=gen) * 2 - 1) * scale
    return t.to(dtype).contiguous(memory_format=torch.channels_last)


def launch(spec, dtype, device, gen):
    """(callable, ops description) for one fused launch's work in PyTorch eager."""
    k = spec["kernel"]
    n = int(spec["n"])
    h, w = int(spec["h"]), int(spec["w"])

    def rnd(*shape, scale=1.0):
        return ((torch.rand(*shape, device=device, generator=gen) * 2 - 1) * scale).to(dtype)

    def bn_params(c):
        return (rnd(c, scale=0.1), rnd(c, scale=0.1).abs() + 0.5, rnd(c, scale=0.1) + 1, rnd(c, scale=0.1))  # mean, var, gamma, beta

    if k in ("conv_bn_relu", "sepconv_bn", "conv1x1s2_bn"):
        cin, cout, stride = int(spec["cin"]), int(spec["cout"]), int(spec.get("stride", 1))
        pre_relu, post_relu = bool(spec.get("pre_relu")), bool(spec.get("post_relu"))
        x = nhwc((n, cin, h, w), dtype, device, gen)
        mean, var, gamma, beta = bn_params(cout)
        if k == "conv_bn_relu":
            wt = rnd(cout, cin, 3, 3, scale=(9 * cin) ** -0.5).contiguous(memory_format=torch.channels_last)
            ops = "conv2d 3x3/%d 'valid', batch_norm%s" % (stride, ", relu" if post_relu else "")

            def body():
                return F.conv2d(x, wt, stride=stride)
            residual = None
        elif k == "conv1x1s2_bn":
            wt = rnd(cout, cin, 1, 1, scale=cin ** -0.5).contiguous(memory_format=torch.channels_last)
            ops = "conv2d 1x1/%d, batch_norm%s" % (stride, ", relu" if post_relu else "")

            def body():
                return F.conv2d(x, wt, stride=stride)
            residual = None
        else:
            dw = rnd(cin, 1, 3, 3, scale=1 / 3).contiguous(memory_format=torch.channels_last)
            pw = rnd(cout, cin, 1, 1, scale=cin ** -0.5).contiguous(memory_format=torch.channels_last)
            residual = nhwc((n, cout, h, w), dtype, device, gen) if spec.get("residual") else None
            ops = ", ".join(filter(None, ["relu" if pre_relu else None, "conv2d depthwise 3x3 'same'", "conv2d 1x1", "batch_norm",
                                          "add" if residual is not None else None, "relu" if post_relu else None]))

            def body():
                t = torch.relu(x) if pre_relu else x
                return F.conv2d(F.conv2d(t, dw, padding=1, groups=cin), pw)

        def run():
            y = F.batch_norm(body(), mean, var, gamma, beta, training=False, eps=EPS)
            if residual is not None:
                y = y + residual
            return torch.relu(y) if post_relu else y
        return run, ops
    if k == "maxpool_add":
        c = int(spec["c"])
        x = nhwc((n, c, h, w), dtype, device, gen)
        r = nhwc((n, c, (h + 1) // 2, (w + 1) // 2), dtype, device, gen)
        return (lambda: max_pool_same(x) + r), "max_pool2d 3x3/2 'same', add"
    if k == "gap_dense_softmax":
        c = int(spec["channels"])
        x = nhwc((n, c, h, w), dtype, device, gen)
        if spec.get("dense", True):
            classes = int(spec["classes"])
            wt, b = rnd(classes, c, scale=c ** -0.5), rnd(classes, scale=0.1)
            return (lambda: torch.softmax(F.linear(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1), wt, b), dim=1)), \
                "adaptive_avg_pool2d, linear, softmax"
        if spec.get("pooling", "avg") == "max":
            return (lambda: torch.flatten(F.adaptive_max_pool2d(x, 1), 1)), "adaptive_max_pool2d"
        return (lambda: torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)), "adaptive_avg_pool2d"
    raise ValueError("unknown kernel %r" % k)


def timed(call, device, warmup, iterations):
    with torch.no_grad():
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
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cuda", choices=["cpu", "cuda"], help="cuda (cuDNN); cpu only to test the script")
    args = p.parse_args()
    try:
        request = json.loads(sys.stdin.read())
        layers = request["layers"]
        precisions = request.get("precisions", ["fp32"])
        warmup, iterations = int(request.get("warmup", 3)), int(request.get("iterations", 20))
    except (ValueError, KeyError, TypeError) as e:
        print("stdin is not a layer request: %s" % e, file=sys.stderr)
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
        torch.backends.cudnn.benchmark = True
        device_name = torch.cuda.get_device_name(0)
        library = "torch %s eager (cuDNN %s, CUDA %s)" % (torch.__version__, torch.backends.cudnn.version(), torch.version.cuda)
    else:
        device_name = "cpu"
        library = "torch %s eager on the CPU (a test of the script, not cuDNN)" % torch.__version__

    results = []

    def report():
        print(json.dumps({"peer": "cudnn_layers", "library": library, "device": args.device, "device_name": device_name,
                          "results": results}), flush=True)

    gen = torch.Generator(device=device).manual_seed(0)
    for precision in precisions:
        if args.device == "cuda":
            torch.backends.cudnn.allow_tf32 = precision == "tf32"
            torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
        dtype = DTYPES[precision]
        done = {}  # geometry -> result fields: the middle flow's launches share one
        for spec in layers:
            key = json.dumps({k: v for k, v in spec.items() if k not in ("index", "node")}, sort_keys=True)
            if key not in done:
                print("cudnn layers %s %s (%s)" % (precision, spec.get("node"), spec.get("kernel")), file=sys.stderr, flush=True)
                try:
                    call, ops = launch(spec, dtype, device, gen)
                    done[key] = dict(timed(call, args.device, warmup, iterations), ops=ops)
                    del call
                except (RuntimeError, ValueError, KeyError, TypeError) as e:  # out of memory, a type the device lacks ...
                    done[key] = {"error": (type(e).__name__ + ": " + str(e)).split("\n")[0][:300]}
                if args.device == "cuda":
                    torch.cuda.empty_cache()
            row = {"index": spec.get("index"), "node": spec.get("node"), "kernel": spec.get("kernel"), "precision": precision}
            row.update(done[key])
            results.append(row)
        report()
    report()


if __name__ == "__main__":
    main()
