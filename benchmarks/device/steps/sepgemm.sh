#!/usr/bin/env bash
# Device step "sepgemm" (issue #4): the split BF16 separable conv (cuda/sepgemm.cu, SeparableGemmPath)
# against the fused sepconv_bn kernel, on the same card in the same call. Budget: 60 s in all, each
# part under `timeout` and the sum bounded by the clock below:
#   1. .device/bin/sepconv_bn_v4 256 (rebuilt here with nvcc if it does not start): CHECK lines (split
#      vs the float64 reference, vs fused with residual + ReLU, bitwise repeat), then TABLE lines:
#      fused vs split per Xception sepconv shape at batch 256 (chunk-size sweep for middle flow/block2)
#   2. CudaXceptionBenchmark BF16 batches 32,256 (graph replay, per-layer at 256) with
#      -Djxception.cuda.sepconv=fused, then =split
#   3. the comparison table, last (<= 24 lines; v4's TABLE lines include the depthwise producer vs a
#      register-weights candidate, depthwise_px_bf16<4>)
# Env (from check.sh): $JAVA, $CP, $WORK. Writes $WORK/sepgemm/{v4.log,fused.log,split.log,*.csv}.
source "$(dirname "$0")/../step_start.sh" sepgemm 58   # cd to the root; $out, t0, left, cap

# ---- 1. the dev harness
v4=.device/bin/sepconv_bn_v4
timeout "$(cap 15)" "$v4" 256 > "$out/v4.log" 2>&1
rc=$?
if [[ $rc -ne 0 && $rc -ne 2 && $rc -ne 124 ]] && ! grep -q "^CHECK" "$out/v4.log"; then
    echo "sepconv_bn_v4 did not start (exit $rc): rebuilding with nvcc" >> "$out/v4.log"
    timeout "$(cap 25)" nvcc -std=c++17 -O3 -arch=sm_90 -o "$out/sepconv_bn_v4" cuda/dev/sepconv_bn_v4.cu >> "$out/v4.log" 2>&1 \
        && timeout "$(cap 12)" "$out/sepconv_bn_v4" 256 >> "$out/v4.log" 2>&1
    rc=$?
fi
echo "sepconv_bn_v4: exit $rc (2 = a check failed, 124 = timed out)" >> "$out/v4.log"

# ---- 2. the Java network, fused then split
for mode in fused split; do
    timeout "$(cap 20)" "$JAVA" -Xmx24g -Djxception.cuda.sepconv=$mode -cp "$CP" io.jxception.internal.backend.cuda.CudaXceptionBenchmark \
        --csv "$out/$mode.csv" --precisions BF16 --batches 32,256 --reps 10 --layers BF16:256 --seconds 9 > "$out/$mode.log" 2>&1
    echo "benchmark $mode: exit $? (124 = timed out)" >> "$out/$mode.log"
done

# ---- 3. the table
graph() { grep -E "^BF16 +batch +$2 +graph" "$out/$1.log" | head -1 | awk '{printf "%9s ms %7s img/s", $5, $7}'; }
layer() { grep -E "^  $2 " "$out/$1.log" | head -1 | awk '{print $2}'; }
sepsum() { grep -E "^  block[0-9]+_sepconv[0-9] " "$out/$1.log" | awk '{s += $2} END {printf "%.2f", s}'; }
echo "==== sepgemm: split (depthwise -> A, tensor-core GEMM) vs fused sepconv_bn, BF16 ($(( $(date +%s) - t0 )) s)"
echo "v4 checks: $(grep -c '^CHECK.* OK$' "$out/v4.log") OK, $(grep -c '^CHECK.*FAIL' "$out/v4.log") FAIL; $(tail -1 "$out/v4.log")"
grep -E "^TABLE" "$out/v4.log" | sed 's/^TABLE  /v4 /'
for b in 32 256; do echo "forward b$b  fused $(graph fused $b) | split $(graph split $b)"; done
grep -hE "REPLAY DIFFERS|FAILED|Exception" "$out/fused.log" "$out/split.log" | head -3
echo "b256 per-layer ms   fused   split   (all sepconvs: fused $(sepsum fused) ms, split $(sepsum split) ms)"
for l in block2_sepconv2 block4_sepconv2 block5_sepconv3 block14_sepconv2; do
    printf "  %-17s %7s %7s\n" "$l" "$(layer fused $l)" "$(layer split $l)"
done
echo "$(tail -1 "$out/fused.log"); $(tail -1 "$out/split.log")"
