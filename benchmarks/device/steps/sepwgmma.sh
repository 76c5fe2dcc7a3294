#!/usr/bin/env bash
# Device step "sepwgmma" (issue #12 item 2): the fused Hopper separable conv cuda/dev/sepconv_wgmma_v1.cu
# (depthwise producer warps write wgmma's swizzled A tile in shared memory, Bt by TMA, pwgemm_v1's wgmma
# consumers and epilogue; sm_90a) against the split path (sepgemm_dw + mma.sync gemm, sepgemm_dw + pwgemm
# wgmma), on the same card in the same call. Budget: 120 s in all, each part under `timeout`, the sum
# bounded by the clock below. Expected ~50-80 s.
#   1. .device/bin/sepconv_wgmma_v1 all 256,32 (built by prepare.sh with the flags on the source's
#      "// device-build:" line; rebuilt with the device's nvcc when it does not start): CHECK lines (naive
#      fp32 GPU reference on every element, float64 CPU rows, fused bitwise equal to split-wgmma, vs
#      split-mma.sync, poisoned outputs, guard rows, bitwise repeat, 7/5-CTA grids), then TABLE lines per
#      Xception separable conv at batch 256 and 32: split-mma, split-wgmma, fused P1, fused P2          <= 85 s
#      Exit 2 = a numerical check failed; 1 = a CUDA error (a hung pipeline traps after 2 s and prints
#      which mbarrier wait); 124 = timed out. The memcheck runs whatever happened here.
#   2. compute-sanitizer memcheck on `sepconv_wgmma_v1 small` (two small shapes, every variant once)   <= 30 s
# Env (from check.sh): $WORK. Writes $WORK/sepwgmma/{sepwgmma.log,sanitizer.log,build.log}.
# Prints the summary last, ~35 lines (run check.sh with STEP_TAIL=40 to see all of it).
source "$(dirname "$0")/../step_start.sh" sepwgmma 118   # cd to the root; $out, t0, left, cap
src=cuda/dev/sepconv_wgmma_v1.cu
bin=.device/bin/sepconv_wgmma_v1

# ---- 1. checks and timings (rebuild on the device when the carried binary cannot start)
run_bin() { timeout "$(cap "$2")" "$1" all 256,32 > "$out/sepwgmma.log" 2>&1; }
rc=127
[[ -x "$bin" ]] && { run_bin "$bin" 85; rc=$?; }
if [[ $rc -ne 124 ]] && ! grep -q "^INFO" "$out/sepwgmma.log" 2>/dev/null; then
    echo "sepconv_wgmma_v1 did not start (exit $rc): building with the device's nvcc" >> "$out/build.log"
    flags="$(sed -n 's|^// device-build: *||p' "$src" | head -1)"
    mkdir -p "$out/bin"
    if timeout "$(cap 40)" nvcc -std=c++17 -O3 --Werror all-warnings -Xptxas -Werror -Xptxas -v $flags -o "$out/bin/sepconv_wgmma_v1" "$src" \
        >> "$out/build.log" 2>&1; then
        echo "built with the device's nvcc ($(nvcc --version | grep -o 'release [0-9.]*'))" >> "$out/build.log"
        bin="$out/bin/sepconv_wgmma_v1"
        run_bin "$bin" 70
        rc=$?
    else
        echo "build failed or timed out (exit $?)" >> "$out/build.log"
    fi
fi
echo "sepconv_wgmma_v1: exit $rc (2 = a check failed, 1 = CUDA error, 124 = timed out)" >> "$out/sepwgmma.log"

# ---- 2. memcheck on small shapes (whether it sees TMA/wgmma traffic is unverified; the producers' x and weight
#      loads and generic shared stores, the epilogue's residual/scale loads and the references are ordinary
#      accesses it does check)
if [[ -x "$bin" ]] && command -v compute-sanitizer > /dev/null; then
    timeout "$(cap 30)" compute-sanitizer --tool memcheck --print-limit 20 "$bin" small > "$out/sanitizer.log" 2>&1
    echo "compute-sanitizer memcheck: exit $? (124 = timed out)" >> "$out/sanitizer.log"
else
    echo "compute-sanitizer or the binary missing: skipped" > "$out/sanitizer.log"
fi

# ---- summary, last (the verdict at the bottom; check.sh shows STEP_TAIL lines of it: give STEP_TAIL=40)
echo "==== sepwgmma: fused Hopper separable conv (sepconv_wgmma_v1, sm_90a) vs split dw + mma.sync / wgmma ($(( $(date +%s) - t0 )) s)"
grep -E "^TABLE" "$out/sepwgmma.log" | sed 's/^TABLE  //'
grep -E "^INFO" "$out/sepwgmma.log" | head -2
grep -q "^INFO" "$out/sepwgmma.log" || head -3 "$out/sepwgmma.log"   # it did not start: its first words say why
grep -hiE "did not start|built with|failed|error" "$out/build.log" 2>/dev/null | head -4
grep -hE "^ERROR" "$out/sepwgmma.log" | head -3
echo "checks: $(grep -c '^CHECK.* OK$' "$out/sepwgmma.log") OK, $(grep -c '^CHECK.*FAIL$' "$out/sepwgmma.log") FAIL"
grep -E "^CHECK.*FAIL$" "$out/sepwgmma.log" | head -6
echo "sanitizer: $(grep -E 'ERROR SUMMARY|exit [0-9]+|skipped' "$out/sanitizer.log" | tr '\n' ' ')"
grep -E "^RESULT" "$out/sepwgmma.log" | tail -1
tail -1 "$out/sepwgmma.log"
