#!/usr/bin/env bash
# Device step "trainpeer" (issue 13's peer; run by benchmarks/device/check.sh, budget 60 s, every command under
# `timeout`): benchmarks/peers/pytorch_train.py, timm legacy_xception training steps on the same card, timed like
# CudaTrainingBenchmark (batch copied from pinned host memory each step, forward in training mode, cross-entropy,
# backward, SGD momentum 0.9 wd 1e-5, synchronize; median of up to 10 steps after 3 warm-up steps):
#   AMP bf16 at batch 32 and 128 and fp32 (TF32 off) at batch 32, data from the host; bf16 batch 128 again with
#   the batch already on the device (what PyTorch benchmarks usually time)
# Then, when the train step ran before it in the same call ($WORK/train/*.csv), the ratios ours / timm per
# precision and batch (issue 13's targets: bf16 b128 >= 1.5x, b32 >= 1.2x, fp32 >= 1.0x).
# Writes $WORK/trainpeer/: peer.json (the last complete JSON line), peer.err. Prints a short table last.
source "$(dirname "$0")/../step_start.sh" trainpeer 60

timeout "$(cap 42)" python3 benchmarks/peers/pytorch_train.py --device cuda --model timm --precision bf16 --batch 32,128 \
    --data host --warmup 3 --iterations 10 --seconds 3 > "$out/peer-bf16.jsonl" 2> "$out/peer.err"
echo "pytorch_train bf16: exit $? (124 = timed out, 3 = unavailable) at $(( $(date +%s) - t0 )) s" >> "$out/peer.err"
timeout "$(cap 16)" python3 benchmarks/peers/pytorch_train.py --device cuda --model timm --precision fp32 --batch 32 \
    --data host --warmup 2 --iterations 10 --seconds 3 > "$out/peer-fp32.jsonl" 2>> "$out/peer.err"
echo "pytorch_train fp32: exit $? at $(( $(date +%s) - t0 )) s" >> "$out/peer.err"
timeout "$(cap 14)" python3 benchmarks/peers/pytorch_train.py --device cuda --model timm --precision bf16 --batch 128 \
    --data device --warmup 2 --iterations 10 --seconds 3 > "$out/peer-device.jsonl" 2>> "$out/peer.err"
echo "pytorch_train bf16 data on device: exit $? at $(( $(date +%s) - t0 )) s" >> "$out/peer.err"

echo "==== trainpeer step ($(( $(date +%s) - t0 )) s)"
python3 - "$out" "$WORK/train" <<'PY'
import csv, glob, json, os, sys
out, train = sys.argv[1], sys.argv[2]
rows = []
for f in sorted(glob.glob(os.path.join(out, "peer-*.jsonl"))):
    lines = [l for l in open(f) if l.strip().startswith("{")]
    if not lines:
        print("%s: no result" % os.path.basename(f)); continue
    doc = json.loads(lines[-1])
    if "unavailable" in doc:
        print("%s: unavailable: %s" % (os.path.basename(f), doc["unavailable"])); continue
    head = doc
    for r in doc["results"]:
        rows.append(r)
json.dump(rows, open(os.path.join(out, "peer.json"), "w"), indent=1)
# ours: the train step's CSVs of this call (the mma pointwise backward where it ran, else the default)
ours = {}
for name in ("bench.csv", "bench-pwbwd-ffma.csv", "bench-pwbwd-mma.csv"):
    p = os.path.join(train, name)
    if os.path.exists(p):
        for r in csv.DictReader(open(p)):
            if r.get("width") not in ("1", "1.0"): continue
            ours[(r["precision"].lower(), int(r["batch"]))] = (float(r["images_per_s"]), name)
for r in rows:
    if "error" in r:
        print("timm %-4s b%-4d data on %-6s ERROR %s" % (r["precision"], r["batch"], r["data"], r["error"])); continue
    line = "timm %-4s b%-4d data on %-6s %8.2f ms %8.1f img/s  peak %s MiB" % (r["precision"], r["batch"], r["data"],
            r["median_step_ms"], r["images_per_second"], r.get("peak_mib", "?"))
    o = ours.get((r["precision"], r["batch"]))
    if o and r["data"] == "host":
        line += "   jxception %8.1f img/s (%s): %.2fx" % (o[0], o[1], o[0] / r["images_per_second"])
    print(line)
PY
