#!/usr/bin/env bash
# Device step "streaming" (issue 16): files to answers on CUDA. Budget 230 s:
#   1. EndToEndBenchmark, bf16 batch 256, 299x299: the device-only forward (graph replay, input on
#      the device) beside `jxception infer` from a uint8 .npy and a float32 .npy of 12288 images (48 batches: the recording of the CUDA graphs in the first batches is amortised) in the
#      page cache (done means: uint8 >= 90% of device-only), then 1024 synthetic 500x375 JPEGs
#      decoded alone and through `infer --images` with 1, 2, 4, 8, 16 decode threads   timeout 170 s
#   2. BatcherLoadBenchmark, bf16, maxBatch 64: 1, 8, 64 closed-loop callers, img/s, p50/p99     timeout 55 s
# The uint8/float bit-equality tests (CudaUint8Test) run in the "tests" step (package io.jxception.internal.backend.cuda).
# Env (check.sh): $JAVA, $CP (java/{core,cuda,cli} classes and test-classes, jars), $WORK. Writes $WORK/streaming/.
set -uo pipefail
out="$WORK/streaming"
mkdir -p "$out"
t0=$(date +%s)

timeout 170 "$JAVA" -Xmx40g -Djava.awt.headless=true -cp "$CP" io.jxception.throughput.EndToEndBenchmark --backend cuda:0 --precision bf16 \
    --batch 256 --images 12288 --reps 20 --jpegs 1024 --decode-threads 1,2,4,8,16 --dir /tmp/jx-e2e > "$out/e2e.log" 2>&1
echo "end to end: exit $? (124 = timed out) at $(( $(date +%s) - t0 )) s" >> "$out/e2e.log"
rm -rf /tmp/jx-e2e

timeout 55 "$JAVA" -Xmx8g -cp "$CP" io.jxception.throughput.BatcherLoadBenchmark --backend cuda:0 --precision bf16 \
    --max-batch 64 --callers 1,8,64 --seconds 10 --warmup-seconds 3 > "$out/batcher.log" 2>&1
echo "batcher: exit $? (124 = timed out) at $(( $(date +%s) - t0 )) s" >> "$out/batcher.log"

echo "==== streaming step ($(( $(date +%s) - t0 )) s)"
echo "-- end to end (EndToEndBenchmark; full log $out/e2e.log)"
sed -n '/^end to end:/,$p' "$out/e2e.log"
grep -E "Exception|exit [1-9]" "$out/e2e.log" | head -4
echo "-- DynamicBatcher load (BatcherLoadBenchmark)"
sed -n '/^DynamicBatcher load/,$p' "$out/batcher.log"
grep -E "Exception|exit [1-9]" "$out/batcher.log" | head -4
