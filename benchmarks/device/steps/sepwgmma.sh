#!/usr/bin/env bash
# Device step "sepwgmma" (issue #12 item 2): the fused Hopper separable conv, cuda/dev/sepconv_wgmma_v1.cu
# (depthwise producer warps write wgmma's swizzled A tile in shared memory, Bt by TMA, pwgemm_v1's wgmma
# consumers and epilogue; sm_90a) against the split path (sepgemm_dw + mma.sync gemm, sepgemm_dw + pwgemm
# wgmma), and cuda/dev/sepconv_wgmma_v2.cu (the same kernel with the sliding-window producer) against v1, on the
# same card in the same call. Budget: 245 s in all (was 120 s with v1 alone), each part under `timeout`, the sum
# bounded by the clock below. Expected ~120-185 s.
#   1. .device/bin/sepconv_wgmma_v1 all 256,32 (built by prepare.sh with the flags on the source's
#      "// device-build:" line; rebuilt with the device's nvcc when it does not start): CHECK lines (naive
#      fp32 GPU reference on every element, float64 CPU rows, fused bitwise equal to split-wgmma, vs
#      split-mma.sync, poisoned outputs, guard rows, bitwise repeat, 7/5-CTA grids), then TABLE lines per
#      Xception separable conv at batch 256 and 32: split-mma, split-wgmma, fused P1, fused P2          <= 85 s
#   2. .device/bin/sepconv_wgmma_v2 host (CPU only: the v2 producer's index, wrap and border logic emulated
#      against a naive depthwise, < 1 s), then sepconv_wgmma_v2 all 256,32 (same build and fallback): v1's
#      CHECK lines per shape and v2's on the same buffers (v2 P1 / P2 against the naive reference on every
#      element, float64 CPU rows, bitwise == split-wgmma and == v1, 7/5-CTA grids, repeat), then TABLE lines:
#      split-wgmma, v1 P1, v2 P1, v2 P2, and v2's speedup over v1 P1                                 <= 110 s
#      Exit 2 = a numerical check failed; 1 = a CUDA error (a hung pipeline traps after 2 s and prints
#      which mbarrier wait); 124 = timed out. The memcheck runs whatever happened here.
#   3. compute-sanitizer memcheck on `sepconv_wgmma_v2 small` (two small shapes: every v1 and v2 variant once;
#      v1 alone if the v2 binary is missing)                                                            <= 45 s
# Env (from check.sh): $WORK. Writes $WORK/sepwgmma/{sepwgmma.log,sepwgmma2.log,sanitizer.log,build.log}.
# Prints the summary last, ~65 lines (run check.sh with STEP_TAIL=70 to see all of it).
source "$(dirname "$0")/../step_start.sh" sepwgmma 243   # cd to the root; $out, t0, left, cap


# ---- 1. v1: checks and timings
run_variant sepconv_wgmma_v1 "$out/sepwgmma.log" 85 70 all 256,32   # .device/bin/sepconv_wgmma_v1
bin1="$bin"

# ---- 2. v2: CPU emulation, then checks and timings
host2=".device/bin/sepconv_wgmma_v2"
[[ -x "$host2" ]] && timeout "$(cap 10)" "$host2" host > "$out/sepwgmma2-host.log" 2>&1
run_variant sepconv_wgmma_v2 "$out/sepwgmma2.log" 110 80 all 256,32   # .device/bin/sepconv_wgmma_v2
bin2="$bin"
[[ -s "$out/sepwgmma2-host.log" ]] || { [[ -x "$bin2" ]] && timeout "$(cap 10)" "$bin2" host > "$out/sepwgmma2-host.log" 2>&1; }

# ---- 3. memcheck on small shapes (whether it sees TMA/wgmma traffic is unverified; the producers' x and weight
#      loads and generic shared stores, the epilogue's residual/scale loads and the references are ordinary
#      accesses it does check). v2's small mode runs v1's variants too.
mbin="$bin2"
[[ -x "$mbin" ]] || mbin="$bin1"
if [[ -x "$mbin" ]] && command -v compute-sanitizer > /dev/null; then
    timeout "$(cap 45)" compute-sanitizer --tool memcheck --print-limit 20 "$mbin" small > "$out/sanitizer.log" 2>&1
    echo "compute-sanitizer memcheck ($(basename "$mbin") small): exit $? (124 = timed out)" >> "$out/sanitizer.log"
else
    echo "compute-sanitizer or the binary missing: skipped" > "$out/sanitizer.log"
fi

# ---- summary, last (the verdict at the bottom; check.sh shows STEP_TAIL lines of it: give STEP_TAIL=70)
summary() {  # <log> <title>
    echo "==== $2"
    grep -E "^TABLE" "$1" | sed 's/^TABLE  //'
    grep -E "^INFO" "$1" | head -2
    grep -q "^INFO" "$1" || head -3 "$1"   # it did not start: its first words say why
    grep -hE "^ERROR" "$1" | head -3
    echo "checks: $(grep -c '^CHECK.* OK$' "$1") OK, $(grep -c '^CHECK.*FAIL$' "$1") FAIL"
    grep -E "^CHECK.*FAIL$" "$1" | head -6
    grep -E "^RESULT" "$1" | tail -1
    tail -1 "$1"
}
echo "==== sepwgmma step ($(( $(date +%s) - t0 )) s)"
summary "$out/sepwgmma.log" "v1: fused Hopper separable conv (sepconv_wgmma_v1, sm_90a) vs split dw + mma.sync / wgmma"
summary "$out/sepwgmma2.log" "v2: sliding-window producer (sepconv_wgmma_v2) vs v1 P1 and split dw + wgmma"
grep -hiE "did not start|built|failed|error" "$out/build.log" 2>/dev/null | head -4
echo "v2 host emulation: $(grep -E '^RESULT' "$out/sepwgmma2-host.log" 2>/dev/null || echo 'not run')"
echo "sanitizer: $(grep -E 'ERROR SUMMARY|exit [0-9]+|skipped' "$out/sanitizer.log" | tr '\n' ' ')"
