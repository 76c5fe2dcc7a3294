#!/usr/bin/env bash
# Device step "pwbwd" (issue 13): the pointwise-convolution backward on tensor cores, cuda/dev/pwbwd_v1.cu
# (mma.sync dgrad; split-M wgrad with an ordered reduce), against conv_bwd.cu's FFMA kernels and cuBLAS, on the
# same card in the same call.
# Budget: 210 s in all, each part under `timeout`, the sum bounded by the clock below. Expected ~70-120 s.
#   1. .device/bin/pwbwd_v1 all 128,32 (built here by prepare.sh with the flags on the source's "// device-build:"
#      line; rebuilt with the device's nvcc when it does not start): CHECK lines (GPU reference with fp64
#      accumulation on every element, float64 CPU rows, the FFMA kernels, NaN-poisoned outputs, guard regions,
#      1 / own / 32-row splits, bitwise repeats), then TABLE lines per Xception pointwise GEMM at batch 128 and 32
#      (dgrad and wgrad, FFMA vs mma.sync) and one RESULT line per batch (ms per training step, old vs new)   <= 90 s
#      Exit 2 = a numerical check failed; 1 = a CUDA error; 124 = timed out. Later parts run whatever happened here.
#   1b. .device/bin/pwbwd_wgmma_v1 all 128,32 (sm_90a: the wgrad on wgmma with MN-major operands, cuda/hopper_pwbwd.cu):
#      its CPU emulation of the descriptor addressing (`host`) first, then CHECK lines (fp64 GPU reference on every
#      element, float64 CPU rows, own / 1 / 64-row splits, bitwise repeat, the mma.sync kernel beside it) and TABLE
#      lines per layer (mma.sync vs wgmma wgrad), one RESULT per batch                                       <= 60 s
#   2. compute-sanitizer memcheck on `pwbwd_v1 small` and `pwbwd_wgmma_v1 small`                           <= 30 + 30 s
#   3. benchmarks/device/pwbwd_torch.py: torch.mm (cuBLAS) on the dgrad and wgrad GEMMs of step 1's TABLE
#      lines, printed beside ours (% of cuBLAS), + a CSV                                                      <= 25 s
# Env (from check.sh): $WORK. Writes $WORK/pwbwd/{pwbwd.log,pwbwd_wgmma.log,build.log,sanitizer.log,sanitizer_wgmma.log,torch.log,torch.csv}.
# Prints the summary last, ~35 lines (run check.sh with STEP_TAIL=40 to see all of it).
source "$(dirname "$0")/../step_start.sh" pwbwd 208   # cd to the root; $out, t0, left, cap

# ---- 1. checks and timings (rebuild on the device when the carried binary cannot start)
run_variant pwbwd_v1 "$out/pwbwd.log" 90 90 all 128,32

# ---- 2. memcheck on small shapes (cp.async and ldmatrix included: memcheck sees both)
memcheck_small "$out/sanitizer.log" 30

# ---- 1b. the wgrad on wgmma (sm_90a): CPU emulation of its addressing, then checks and timings
wbin=".device/bin/pwbwd_wgmma_v1"
[[ -x "$wbin" ]] && timeout "$(cap 10)" "$wbin" host > "$out/pwbwd_wgmma_host.log" 2>&1
run_variant pwbwd_wgmma_v1 "$out/pwbwd_wgmma.log" 60 60 all 128,32
memcheck_small "$out/sanitizer_wgmma.log" 30

# ---- 3. cuBLAS beside it
PYTHONUNBUFFERED=1 timeout "$(cap 25)" python3 benchmarks/device/pwbwd_torch.py "$out/pwbwd.log" --csv "$out/torch.csv" > "$out/torch.log" 2>&1
echo "pwbwd_torch: exit $? (124 = timed out)" >> "$out/torch.log"

# ---- summary, last (the verdict at the bottom; check.sh shows STEP_TAIL lines of it: give STEP_TAIL=40)
echo "==== pwbwd: pointwise backward on tensor cores (pwbwd_v1) vs FFMA conv_bwd and cuBLAS ($(( $(date +%s) - t0 )) s)"
if grep -q "^TORCH" "$out/torch.log"; then
    grep -E "^TORCH" "$out/torch.log" | sed 's/^TORCH //'
else
    grep -E "^TABLE" "$out/pwbwd.log" | sed 's/^TABLE  //'
    tail -2 "$out/torch.log"
fi
grep -E "^INFO" "$out/pwbwd.log" | head -2
grep -q "^INFO" "$out/pwbwd.log" || head -3 "$out/pwbwd.log"   # it did not start: its first words say why
grep -hiE "did not start|built|failed|error" "$out/build.log" 2>/dev/null | head -4
grep -hE "^ERROR" "$out/pwbwd.log" | head -3
echo "checks: $(grep -c '^CHECK.* OK$' "$out/pwbwd.log") OK, $(grep -c '^CHECK.*FAIL$' "$out/pwbwd.log") FAIL"
grep -E "^CHECK.*FAIL$" "$out/pwbwd.log" | head -6
echo "sanitizer: $(grep -E 'ERROR SUMMARY|exit [0-9]+|skipped' "$out/sanitizer.log" | tr '\n' ' ')"
grep -E "^RESULT" "$out/pwbwd.log" | tail -3
tail -1 "$out/pwbwd.log"
echo "-- wgrad on wgmma (pwbwd_wgmma_v1): $(tail -1 "$out/pwbwd_wgmma_host.log" 2>/dev/null)"
grep -E "^TABLE" "$out/pwbwd_wgmma.log" | sed 's/^TABLE  //' | cut -c1-200
grep -hE "^ERROR" "$out/pwbwd_wgmma.log" | head -3
grep -q "^INFO" "$out/pwbwd_wgmma.log" || head -3 "$out/pwbwd_wgmma.log"
echo "checks: $(grep -c '^CHECK.* OK$' "$out/pwbwd_wgmma.log") OK, $(grep -c '^CHECK.*FAIL$' "$out/pwbwd_wgmma.log") FAIL; sanitizer: $(grep -E 'ERROR SUMMARY|exit [0-9]+|skipped' "$out/sanitizer_wgmma.log" | tr '\n' ' ')"
grep -E "^CHECK.*FAIL$" "$out/pwbwd_wgmma.log" | head -4
grep -E "^RESULT" "$out/pwbwd_wgmma.log" | tail -3
