#!/usr/bin/env bash
# The whole GPU check in one call (see README.md here): builds nothing with Maven; everything Java comes
# prepared by benchmarks/device/prepare.sh through `carry`. Steps, each with its own time limit:
#   1. environment: nvidia-smi -L, driver, nvcc, java
#   2. cuda/dev variants (sepconv_bn v1..v3): check vs a CPU reference, time (rebuilt here if the carried binaries do not run)
#   3. gpu-tagged JUnit tests (every op fwd/bwd vs the CPU reference, whole network, training step, ...)
#   4. Java end-to-end benchmark: img/s at 299x299, batch 1/32/256, FP32/TF32/BF16 (CUDA graph replay, CUDA events, medians)
#   5. PyTorch + cuDNN peer (Keras Xception in torch and timm legacy_xception), same card, same call
# Writes at most 8 files to $OUT and prints a short table last.
set -uo pipefail
# STEPS picks steps (default: all): dev, tests, bench, peer, suite. PEER_ARGS and BENCH_ARGS override the defaults.
STEPS="${STEPS:-dev,tests,bench,peer,suite}"
want() { [[ ",$STEPS," == *",$1,"* ]]; }
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
OUT="${OUT:-/tmp/jxception-out}"
mkdir -p "$OUT"
t_start=$(date +%s)
summary="$OUT/summary.txt"
: > "$summary"
note() { echo "$*" | tee -a "$summary"; }
elapsed() { echo $(( $(date +%s) - t_start )); }

# ---- 1. environment (env.txt)
{
    echo "date: $(date -u +%FT%TZ)"
    nvidia-smi -L 2>&1
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,power.limit --format=csv 2>&1
    echo "nvcc: $(nvcc --version 2>&1 | tail -1)"
    echo "libcuda: $(ldconfig -p 2>/dev/null | grep -m1 'libcuda.so.1' || echo 'not in ldconfig cache')"
} > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"
gpu="$(nvidia-smi -L 2>/dev/null | head -1)"

# libcuda.so.1 for JCuda: the driver's folder may not be in the loader's cache
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64; do
    [[ -e "$d/libcuda.so.1" ]] && export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" && break
done
JAVA="$(command -v java || true)"
if [[ -z "$JAVA" ]]; then
    if [[ -f .device/jre.tar.xz ]]; then
        tar -xJf .device/jre.tar.xz -C /tmp && JAVA=/tmp/jre/bin/java
    fi
fi
echo "java: ${JAVA:-none} $($JAVA -version 2>&1 | head -1)" | tee -a "$OUT/env.txt"
# explicit jar list: the JUnit console launcher does not expand "dir/*" as java -cp does
CP="target/classes:target/test-classes$(printf ':%s' .device/deps/*.jar)"

# ---- 2. cuda/dev variants (dev.log)
if want dev; then {
    for v in 1 2 3; do
        src="cuda/dev/sepconv_bn_v$v.cu" bin=".device/bin/sepconv_bn_v$v" rc=127
        if [[ -x "$bin" ]]; then
            echo "## $bin (carried)"
            timeout 40 "$bin" 256
            rc=$?
        fi
        # 1: a CUDA error (e.g. no kernel image for this GPU), 126/127: cannot run here -> rebuild with this machine's nvcc
        # 2: a check against the CPU reference failed, 124: timed out -> report as is
        if [[ $rc -eq 1 || $rc -eq 126 || $rc -eq 127 ]]; then
            echo "## rebuilding $src with $(nvcc --version 2>&1 | tail -1)"
            mkdir -p /tmp/devbin
            if timeout 90 nvcc -std=c++17 -O3 -gencode arch=compute_90,code=sm_90 -o "/tmp/devbin/sepconv_bn_v$v" "$src"; then
                timeout 40 "/tmp/devbin/sepconv_bn_v$v" 256
                rc=$?
            fi
        fi
        echo "## sepconv_bn_v$v exit $rc"
    done
} > "$OUT/dev.log" 2>&1
grep -E "^(INFO|CHECK|RESULT|SKIP)|exit [1-9]|rebuilding" "$OUT/dev.log"; fi
echo "# step 2 done at $(elapsed) s"

# ---- 3. gpu-tagged tests (gpu-tests.log)
if [[ -n "$JAVA" ]] && want tests; then
    timeout 150 "$JAVA" -Xmx24g -jar .device/junit-console.jar execute --disable-banner --disable-ansi-colors --details=tree \
        --class-path "$CP" --select-package io.jxception.backend.cuda --include-tag gpu > "$OUT/gpu-tests.log" 2>&1
    echo "gpu tests: exit $? (124 = timed out)" >> "$OUT/gpu-tests.log"
    grep -E "✘|(tests|containers) (successful|failed|aborted)|exit [0-9]+" "$OUT/gpu-tests.log" | head -40
fi
echo "# step 3 done at $(elapsed) s"

# ---- 4. Java end-to-end benchmark (cuda-bench.csv, cuda-bench.log)
if [[ -n "$JAVA" ]] && want bench; then
    timeout 100 "$JAVA" -Xmx24g -cp "$CP" io.jxception.backend.cuda.CudaXceptionBenchmark --csv "$OUT/cuda-bench.csv" \
        ${BENCH_ARGS:---precisions FP32,TF32,BF16 --batches 1,32,256 --reps 20 --layers BF16:256 --seconds 80} > "$OUT/cuda-bench.log" 2>&1
    echo "benchmark: exit $? (124 = timed out)" >> "$OUT/cuda-bench.log"
fi
echo "# step 4 done at $(elapsed) s"

# ---- 5. PyTorch peer (pytorch.csv, pytorch.log)
if want peer; then
PYTHONUNBUFFERED=1 timeout 170 python3 benchmarks/device/pytorch_xception.py --csv "$OUT/pytorch.csv" ${PEER_ARGS:---batches 1,32,256 --reps 20 --seconds 75} \
    > "$OUT/pytorch.log" 2>&1
echo "pytorch: exit $? (124 = timed out)" >> "$OUT/pytorch.log"
fi
echo "# step 5 done at $(elapsed) s"

# ---- 6. the comparison suite (issue 5): per-launch roofline with CUDA events, PyTorch peers in the same run
if [[ -n "$JAVA" ]] && want suite; then
    timeout 240 "$JAVA" -Xmx24g -Djava.awt.headless=true -cp "$CP" io.jxception.cli.Main bench --backend cuda \
        ${SUITE_ARGS:---precision fp32,tf32,bf16 --batch 1,32,256 --size 299 --per-layer --iterations 20 --warmup 3} \
        --peers --python python3 --peer-script benchmarks/peers/pytorch_xception.py \
        --peaks-file "$OUT/peaks.json" --json "$OUT/suite.json" --csv "$OUT/suite-layers.csv" > "$OUT/suite.log" 2>&1
    echo "suite: exit $? (124 = timed out)" >> "$OUT/suite.log"
fi
echo "# step 6 done at $(elapsed) s"

# ---- short table, last
{
    echo "==================== jxception CUDA check on ${gpu:-unknown GPU} ($(elapsed) s)"
    echo "-- dev kernels (sepconv_bn, middle flow 256x19x19x728->728 unless noted)"
    grep -E "^(INFO|RESULT)|FAIL" "$OUT/dev.log" | sed 's/^RESULT //'
    echo "-- gpu tests"
    grep -E "(tests|containers) (successful|failed|aborted)|exit [0-9]+ \(" "$OUT/gpu-tests.log" 2>/dev/null
    grep -E "✘" "$OUT/gpu-tests.log" 2>/dev/null | head -12
    echo "-- jxception CUDA forward (graph replay, median of CUDA events)"
    sed -n '/^jxception CUDA/,$p' "$OUT/cuda-bench.log" 2>/dev/null | tail -n +2
    grep -E "FAILED|Exception|exit [1-9]" "$OUT/cuda-bench.log" 2>/dev/null | head -5
    echo "-- PyTorch peer"
    grep -E "^# " "$OUT/pytorch.log" | head -3
    sed -n '/^PyTorch peer/,$p' "$OUT/pytorch.log" | tail -n +2
    grep -E "Error|exit [1-9]" "$OUT/pytorch.log" 2>/dev/null | head -5
    echo "-- comparison suite"
    grep -vE "^ *[0-9]+ (block|conv2d|predictions)" "$OUT/suite.log" 2>/dev/null | tail -40
} >> "$summary"
cat "$summary"
