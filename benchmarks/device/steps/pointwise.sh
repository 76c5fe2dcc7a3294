#!/usr/bin/env bash
# Device step "pointwise" (issue #12 items 1 and 2, the library side): the backend with cuda.pointwise=wgmma on the
# same card as the default mma.sync kernels: split (sepgemm_dw + the sm_90a GEMM of cuda/hopper_pwgemm.cu) and fused
# (cuda.sepconv=fused: cuda/hopper_sepconv.cu, the depthwise computed into wgmma's shared-memory tile).
# TF32 runs the split path on the Hopper GEMM too (sepgemm_dw_tf32 + pwgemm_wgmma_tf32; without wgmma TF32 is the fused conv).
# Budget: 220 s in all, each part under `timeout`, the sum bounded by the clock below. Expected ~160-200 s.
#   1. the gpu tests of CudaSeparableGemmTest whose names say wgmma: every sepconv case, BF16/FP16 split and fused,
#      TF32 split, against the CPU reference (2e-2, TF32 5e-3) and against the mma.sync path on the same inputs
#      (2e-3, TF32 5e-3), bitwise repeats, the full-size network vs mma.sync with graph capture and replay; on a
#      device other than CC 9.0, that the option is refused (40 cases + 5 full-size networks)                 <= 80 s
#   2. CudaXceptionBenchmark at batch 1, 32 and 256 (graph replay, CUDA events, medians; per-launch rows at BF16 256):
#      mma.sync (the default) BF16 + TF32, split wgmma BF16 + TF32, fused wgmma BF16, back to back             <= 44 + 44 + 34 s
# Env (from check.sh): $JAVA, $CP, $WORK. Writes $WORK/pointwise/{tests.log,bench-{mma,wgmma,fused-wgmma}.{csv,log}}.
# Prints the summary last, ~25 lines (run check.sh with STEP_TAIL=30).
source "$(dirname "$0")/../step_start.sh" pointwise 218   # cd to the root; $out, t0, left, cap

# ---- 1. correctness of the integrated kernels
timeout "$(cap 80)" "$JAVA" -Xmx16g -jar .device/junit-console.jar execute --disable-banner --disable-ansi-colors --details=tree \
    --class-path "$CP" --select-class io.jxception.internal.backend.cuda.CudaSeparableGemmTest --include-methodname '.*[Ww]gmma.*' \
    --include-tag gpu > "$out/tests.log" 2>&1
echo "wgmma gpu tests: exit $? (124 = timed out) at $(( $(date +%s) - t0 )) s" >> "$out/tests.log"

# ---- 2. img/s, the three paths, same card, same call (name: backend options)
# name:precisions:seconds:backend options
paths=("mma:BF16,TF32:38:-Djxception.cuda.pointwise=mma" "wgmma:BF16,TF32:38:-Djxception.cuda.pointwise=wgmma"
       "fused-wgmma:BF16:28:-Djxception.cuda.sepconv=fused -Djxception.cuda.pointwise=wgmma")
for entry in "${paths[@]}"; do
    IFS=: read -r name precisions seconds options <<< "$entry"
    timeout "$(cap $(( seconds + 6 )))" "$JAVA" -Xmx24g $options -cp "$CP" io.jxception.internal.backend.cuda.CudaXceptionBenchmark \
        --csv "$out/bench-$name.csv" --precisions "$precisions" --batches 1,32,256 --reps 10 --layers BF16:256 --seconds "$seconds" > "$out/bench-$name.log" 2>&1
    echo "benchmark $options: exit $? (124 = timed out) at $(( $(date +%s) - t0 )) s" >> "$out/bench-$name.log"
done

# ---- summary, last
echo "==== pointwise: cuda.pointwise=wgmma in the backend ($(( $(date +%s) - t0 )) s)"
grep -E "tests (successful|failed|skipped|aborted)|wgmma gpu tests" "$out/tests.log"
grep -E "✘|MethodSource|AssertionFailed|Exception" "$out/tests.log" | head -6
for path in mma wgmma fused-wgmma; do
    echo "-- $path"
    sed -n '/^jxception CUDA/,$p' "$out/bench-$path.log" | tail -n +2 | head -12
    grep -hE "^[A-Za-z.]*(Exception|Error)" "$out/bench-$path.log" | head -1
done
