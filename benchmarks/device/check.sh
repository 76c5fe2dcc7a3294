#!/usr/bin/env bash
# The whole GPU check in one call (see README.md here): builds nothing with Maven; everything Java comes
# prepared by benchmarks/device/prepare.sh through `carry`. Steps (STEPS picks, comma list; default below):
#   tests   gpu-tagged JUnit tests of io.jxception.internal.backend.cuda (every op fwd/bwd vs the CPU reference,
#           whole network, training step, graph replay and the copy-stream pipeline)
#   bench   Java end-to-end img/s at 299x299 (CudaXceptionBenchmark: graph replay, runAll pipeline); then
#           BF16 again with the previous kernels (OLD_PATHS) for a same-machine comparison
#   peer    PyTorch eager + cuDNN (benchmarks/device/pytorch_xception.py)
#   <name>  benchmarks/device/steps/<name>.sh (sepgemm, stemhead, train, suite, ...), each with its own budget
# Everything is written under $WORK and comes back as $OUT/results.tar.gz (the device returns at most 8
# files) plus $OUT/summary.txt, the short table printed last.
set -uo pipefail
STEPS="${STEPS:-tests,bench,sepgemm,stemhead,train}"
want() { [[ ",$STEPS," == *",$1,"* ]]; }
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
OUT="${OUT:-/tmp/jxception-out}"
export WORK="${WORK:-/tmp/jxception-work}"
mkdir -p "$OUT" "$WORK"
t_start=$(date +%s)
elapsed() { echo $(( $(date +%s) - t_start )); }
summary="$WORK/summary.txt"
: > "$summary"
pack() { tar -czf "$OUT/results.tar.gz" -C "$WORK" . 2>/dev/null; cp "$summary" "$OUT/summary.txt"; }
trap pack EXIT

# ---- environment (env.txt)
{
    echo "date: $(date -u +%FT%TZ)"
    nvidia-smi -L 2>&1
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,power.limit --format=csv 2>&1
    echo "nvcc: $(nvcc --version 2>&1 | tail -1)"
    python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" 2>&1
} > "$WORK/env.txt" 2>&1
gpu="$(nvidia-smi -L 2>/dev/null | head -1)"
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64; do
    [[ -e "$d/libcuda.so.1" ]] && export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" && break
done
# prepare.sh's carry: classes, test-classes, deps, bin and junit-console.jar, packed as one tar.xz, unpack here into
# .device/ before anything runs (a file already there and newer, e.g. a dev binary built by hand into .device/bin for
# a step alone, is kept)
if [[ -f .device/carry.tar.xz ]]; then
    tar --keep-newer-files --warning=no-ignore-newer -xJf .device/carry.tar.xz -C .device \
        || echo "check.sh: unpacking .device/carry.tar.xz failed" | tee -a "$WORK/env.txt" >&2
fi
JAVA="$(command -v java || true)"
if [[ -z "$JAVA" && -f .device/jre.tar.xz ]]; then tar -xJf .device/jre.tar.xz -C /tmp && JAVA=/tmp/jre/bin/java; fi
export JAVA
echo "java: ${JAVA:-none} $($JAVA -version 2>&1 | head -1)" >> "$WORK/env.txt"
# explicit jar list: the JUnit console launcher does not expand "dir/*" as java -cp does
# prepare.sh's trimmed copies (one folder per module), else the module builds here
cp_dirs=""
for m in core cuda cli; do
    c=.device/classes/$m; [[ -d $c ]] || c=java/$m/target/classes
    t=.device/test-classes/$m; [[ -d $t ]] || t=java/$m/target/test-classes
    cp_dirs="$cp_dirs:$c:$t"
done
export CP="${cp_dirs#:}$(printf ':%s' .device/deps/*.jar)"
cat "$WORK/env.txt"

# ---- tests (gpu-tests.log)
if [[ -n "$JAVA" ]] && want tests; then
    timeout "${TESTS_S:-110}" "$JAVA" -Xmx24g -jar .device/junit-console.jar execute --disable-banner --disable-ansi-colors --details=tree \
        --class-path "$CP" --select-package io.jxception.internal.backend.cuda --include-tag gpu > "$WORK/gpu-tests.log" 2>&1
    echo "gpu tests: exit $? (124 = timed out)" >> "$WORK/gpu-tests.log"
    grep -E "✘|(tests|containers) (successful|failed|aborted)|exit [0-9]+" "$WORK/gpu-tests.log" | head -40
fi
echo "# tests done at $(elapsed) s"

# ---- bench (cuda-bench.csv/.log; cuda-bench-old.csv/.log)
if [[ -n "$JAVA" ]] && want bench; then
    timeout "${BENCH_S:-85}" "$JAVA" -Xmx24g -cp "$CP" io.jxception.internal.backend.cuda.CudaXceptionBenchmark --csv "$WORK/cuda-bench.csv" \
        ${BENCH_ARGS:---precisions FP32,TF32,BF16 --batches 1,32,256 --reps 20 --seconds 75} > "$WORK/cuda-bench.log" 2>&1
    echo "benchmark: exit $? (124 = timed out)" >> "$WORK/cuda-bench.log"
    if [[ -n "${OLD_PATHS:-}" ]]; then
        timeout 30 "$JAVA" -Xmx24g $OLD_PATHS -cp "$CP" io.jxception.internal.backend.cuda.CudaXceptionBenchmark --csv "$WORK/cuda-bench-old.csv" \
            --precisions BF16 --batches 32,256 --reps 10 --seconds 25 > "$WORK/cuda-bench-old.log" 2>&1
        echo "benchmark with $OLD_PATHS: exit $? (124 = timed out)" >> "$WORK/cuda-bench-old.log"
    fi
fi
echo "# bench done at $(elapsed) s"

# ---- peer (pytorch.csv/.log)
if want peer; then
    PYTHONUNBUFFERED=1 timeout "${PEER_S:-170}" python3 benchmarks/device/pytorch_xception.py --csv "$WORK/pytorch.csv" \
        ${PEER_ARGS:---batches 1,32,256 --reps 20 --seconds 150} > "$WORK/pytorch.log" 2>&1
    echo "pytorch: exit $? (124 = timed out)" >> "$WORK/pytorch.log"
fi
echo "# peer done at $(elapsed) s"

# ---- step scripts (each keeps to its own budget and writes under $WORK/<name>/)
step_logs=()
for script in benchmarks/device/steps/*.sh; do
    [[ -e "$script" ]] || continue
    name="$(basename "$script" .sh)"
    want "$name" || continue
    mkdir -p "$WORK/$name"
    bash "$script" > "$WORK/$name/step.log" 2>&1
    echo "step $name: exit $? at $(elapsed) s" >> "$WORK/$name/step.log"
    step_logs+=("$WORK/$name/step.log")
    echo "# step $name done at $(elapsed) s"
done

# ---- short table, last
{
    echo "==================== jxception CUDA check on ${gpu:-unknown GPU} ($(elapsed) s, steps $STEPS)"
    if want tests; then
        echo "-- gpu tests"
        grep -E "(tests|containers) (successful|failed|aborted)|exit [0-9]+ \(" "$WORK/gpu-tests.log" 2>/dev/null
        grep -E "✘" "$WORK/gpu-tests.log" 2>/dev/null | head -20
    fi
    if want bench; then
        echo "-- jxception CUDA forward (graph replay, median of CUDA events; end to end wall clock)"
        sed -n '/^jxception CUDA/,$p' "$WORK/cuda-bench.log" 2>/dev/null | tail -n +2
        grep -E "FAILED|Exception|exit [1-9]" "$WORK/cuda-bench.log" 2>/dev/null | head -5
        [[ -f "$WORK/cuda-bench-old.log" ]] && { echo "-- the same with ${OLD_PATHS:-}"; sed -n '/^jxception CUDA/,$p' "$WORK/cuda-bench-old.log" | tail -n +2;
            grep -E "FAILED|Exception|exit [1-9]" "$WORK/cuda-bench-old.log" | head -3; }
    fi
    if want peer; then
        echo "-- PyTorch peer"
        grep -E "^# " "$WORK/pytorch.log" | head -3
        sed -n '/^PyTorch peer/,$p' "$WORK/pytorch.log" | tail -n +2
    fi
    for log in "${step_logs[@]}"; do
        echo "-- $(basename "$(dirname "$log")") (last lines of its log)"
        tail -n "${STEP_TAIL:-25}" "$log"
    done
} >> "$summary"
cat "$summary"
