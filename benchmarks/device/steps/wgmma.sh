#!/usr/bin/env bash
# Device step "wgmma" (issue #12): the Hopper pointwise GEMM cuda/dev/pwgemm_v1.cu (wgmma + TMA + mbarrier
# pipeline, sm_90a) against the mma.sync sepgemm_gemm and cuBLAS, on the same card in the same call.
# Budget: 240 s in all, each part under `timeout`, the sum bounded by the clock below. Expected ~80-110 s (tf32 included).
#   1. .device/bin/pwgemm_v1 all 256,32 (built here by prepare.sh with the flags on the source's
#      "// device-build:" line; rebuilt with the device's nvcc when it does not start): CHECK lines (naive
#      fp32 GPU reference, float64 CPU rows, mma.sync vs wgmma, poisoned outputs, guard rows, bitwise
#      repeat, 5-7-CTA grids; bf16, fp16, tf32), then TABLE lines per Xception pointwise GEMM at batch 256
#      and 32 (bf16, then tf32; line-buffered, so a timeout keeps the lines already printed)           <= 120 s
#      Exit 2 = a numerical check failed; 1 = a CUDA error (a hung pipeline traps after 2 s and
#      prints which mbarrier wait); 124 = timed out. Later parts run whatever happened here.
#   2. compute-sanitizer memcheck on `pwgemm_v1 small` (two bf16 + one tf32 small shape)          <= 60 s
#   3. benchmarks/device/pwgemm_cublas.py: torch.mm (cuBLAS) on the shapes of step 1's TABLE lines,
#      printed beside ours (ms, TFLOP/s, % of peak, % of cuBLAS; tf32 rows with allow_tf32), + a CSV  <= 60 s
# Env (from check.sh): $WORK. Writes $WORK/wgmma/{pwgemm.log,sanitizer.log,cublas.log,cublas.csv}.
# Prints the summary last, ~60 lines with the tf32 rows (run check.sh with STEP_TAIL=70 to see all of it).
source "$(dirname "$0")/../step_start.sh" wgmma 238   # cd to the root; $out, t0, left, cap

# ---- 1. checks and timings (rebuild on the device when the carried binary cannot start)
build_s=90 run_variant pwgemm_v1 "$out/pwgemm.log" 120 120 all 256,32

# ---- 2. memcheck on small shapes (whether it sees TMA/wgmma traffic is unverified; the epilogue's residual/scale
#      loads, the fills and the references are ordinary accesses it does check)
memcheck_small "$out/sanitizer.log" 60

# ---- 3. cuBLAS beside it
PYTHONUNBUFFERED=1 timeout "$(cap 60)" python3 benchmarks/device/pwgemm_cublas.py "$out/pwgemm.log" --csv "$out/cublas.csv" > "$out/cublas.log" 2>&1
echo "pwgemm_cublas: exit $? (124 = timed out)" >> "$out/cublas.log"

# ---- summary, last (the verdict at the bottom; check.sh shows STEP_TAIL lines of it: give STEP_TAIL=70)
echo "==== wgmma: Hopper pointwise GEMM (pwgemm_v1, sm_90a) vs mma.sync and cuBLAS ($(( $(date +%s) - t0 )) s)"
if grep -q "^CUBLAS" "$out/cublas.log"; then
    grep -E "^CUBLAS" "$out/cublas.log" | sed 's/^CUBLAS //'
else
    grep -E "^TABLE" "$out/pwgemm.log" | sed 's/^TABLE  //'
    tail -2 "$out/cublas.log"
fi
grep -E "^INFO" "$out/pwgemm.log" | head -2
grep -q "^INFO" "$out/pwgemm.log" || head -3 "$out/pwgemm.log"   # it did not start: its first words say why
grep -hiE "did not start|built|failed|error" "$out/build.log" 2>/dev/null | head -4
grep -hE "^ERROR" "$out/pwgemm.log" | head -3
echo "checks: $(grep -c '^CHECK.* OK$' "$out/pwgemm.log") OK, $(grep -c '^CHECK.*FAIL$' "$out/pwgemm.log") FAIL"
grep -E "^CHECK.*FAIL$" "$out/pwgemm.log" | head -6
echo "sanitizer: $(grep -E 'ERROR SUMMARY|exit [0-9]+|skipped' "$out/sanitizer.log" | tr '\n' ' ')"
grep -E "^RESULT" "$out/pwgemm.log" | tail -1
tail -1 "$out/pwgemm.log"
