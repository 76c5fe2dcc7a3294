#!/usr/bin/env bash
# Device step "stemhead" (issue #4): the stem convolutions' new kernels (cuda/stem.cu). Budget 40 s:
#   1. .device/bin/stem_conv_v1 (cuda/dev/stem_conv_v1.cu; rebuilt with nvcc here if it does not run):
#      stem_cin3 / stem_mma checked against a CPU loop (small batch, NaN-filled outputs, bitwise
#      repeat), then timed at batch 256 (CUDA events, median); exit 2 = a check failed   timeout 14 s
#      (a rebuild, only when the binary cannot run: nvcc 10 s + run 8 s, then the benchmarks may be skipped)
#   2. CudaXceptionBenchmark BF16 batch 256 with -Djxception.cuda.stem=old and =new: graph replay of
#      the whole forward and per-layer times (block1_conv1/2)                        timeout 12 s each
# Env (check.sh): $JAVA, $CP, $WORK. Writes $WORK/stemhead/. Prints the compact table last.
set -uo pipefail
out="$WORK/stemhead"
mkdir -p "$out"
t0=$(date +%s)

bin=.device/bin/stem_conv_v1
timeout 14 "$bin" 256 > "$out/dev.log" 2>&1
rc=$?
echo "dev binary: exit $rc" >> "$out/dev.log"
if [[ $rc -ne 0 && $rc -ne 2 && $rc -ne 124 ]]; then
    echo "rebuilding with nvcc" >> "$out/dev.log"
    mkdir -p "$out/bin"
    if timeout 10 nvcc -std=c++17 -O3 -arch=native -o "$out/bin/stem_conv_v1" cuda/dev/stem_conv_v1.cu >> "$out/dev.log" 2>&1; then
        timeout 8 "$out/bin/stem_conv_v1" 256 >> "$out/dev.log" 2>&1
        echo "rebuilt binary: exit $?" >> "$out/dev.log"
    else
        echo "rebuild failed or timed out" >> "$out/dev.log"
    fi
fi

for path in old new; do
    if (( $(date +%s) - t0 > 26 )); then echo "skipped: step budget" > "$out/bench-$path.log"; continue; fi
    timeout 12 "$JAVA" -Xmx24g -Djxception.cuda.stem=$path -cp "$CP" io.jxception.internal.backend.cuda.CudaXceptionBenchmark \
        --csv "$out/bench-$path.csv" --precisions BF16 --batches 256 --reps 5 --layers BF16:256 --seconds 8 > "$out/bench-$path.log" 2>&1
    echo "exit $? (124 = timed out)" >> "$out/bench-$path.log"
done

echo "==== stemhead ($(( $(date +%s) - t0 )) s)"
echo "dev checks (CPU loop, small batch): $(grep -c '^CHECK.* OK$' "$out/dev.log") OK, $(grep -c '^CHECK.*FAIL$' "$out/dev.log") FAIL; $(grep -E '^dev binary|^rebuilt' "$out/dev.log" | tr '\n' ' ')"
grep -E "^CHECK.*FAIL|error|rebuild" "$out/dev.log" | head -4 | cut -c1-150
grep -E "^copy" "$out/dev.log"
grep -E "^  stem_mma" "$out/dev.log" | sort -u | head -2
grep -E "^RESULT" "$out/dev.log" | sed -E 's/ +/ /g' | cut -c8-150
for path in old new; do
    echo "-- CudaXceptionBenchmark BF16 b256, -Djxception.cuda.stem=$path"
    grep -E "^BF16 +batch|block1_conv[12] |FAILED|Exception|skipped|^exit [1-9]" "$out/bench-$path.log" | head -6
done
exit 0
