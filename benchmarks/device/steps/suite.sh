#!/usr/bin/env bash
# Device step "suite" (run by benchmarks/device/check.sh with STEPS=suite; budget 200 s, SUITE_S, held by `timeout`):
# the kernel comparison suite `jxception bench` on CUDA, as a user runs it:
#   bf16, tf32, fp32 (bf16 first: a short compile budget reaches it first) x batch 1, 32, 256 at 299x299, every fused launch timed alone (--per-layer), against the
#   device's peaks measured here; PyTorch eager (channels_last, cudnn.benchmark) at each batch; cuBLAS on every
#   pointwise GEMM (torch.mm through benchmarks/peers/cublas_gemms.py, and JCublas where libcublas.so.12 loads);
#   torch.compile last, in what is left of the budget (--time-budget; the rows it finishes are kept).
# Env (check.sh): $JAVA, $CP (target/classes:target/test-classes:.device/deps/*.jar), $WORK.
# Writes $WORK/suite/: suite.json (render here with `bin/jxception bench --from-json suite.json --report
# benchmarks/results`), suite-layers.csv, suite.log (stdout tables), suite.err (progress, peer stderr), peaks.json.
# Prints last (~25 lines with STEP_TAIL=25; 40 shows everything): peer notes, compile rows, peaks, the throughput table
# with ours / PyTorch eager, the cuBLAS GEMM totals per configuration.
set -uo pipefail
budget="${SUITE_S:-200}"
out="$WORK/suite"
mkdir -p "$out"
t0=$(date +%s)

# JCublas 12.6 needs libcublas.so.12; a pip wheel (nvidia-cublas-cu12) may ship it beside a CUDA 13 torch.
cublas12="$(python3 -c 'import glob, site, os
for d in site.getsitepackages():
    for f in glob.glob(os.path.join(d, "nvidia", "cu*", "lib", "libcublas.so.12*")) + glob.glob(os.path.join(d, "nvidia", "cublas", "lib", "libcublas.so.12*")):
        print(os.path.dirname(f)); raise SystemExit' 2>/dev/null | head -1)"
[[ -n "$cublas12" ]] && export LD_LIBRARY_PATH="$cublas12${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "libcublas.so.12 for JCublas: ${cublas12:-none found (the report says cuBLAS unavailable: JCublas: ...)}"

# --time-budget leaves 10 s of the step's budget for the JVM to exit; the compile peer gets what is left of it.
PYTHONUNBUFFERED=1 timeout -k 5 "$budget" "$JAVA" -Xmx24g -cp "$CP" io.jxception.cli.Main bench \
    --backend cuda --precision bf16,tf32,fp32 --batch 1,32,256 --size 299 --per-layer --iterations 10 --warmup 2 \
    --peaks-file "$out/peaks.json" --peers --python python3 \
    --peer-script benchmarks/peers/pytorch_xception.py --gemm-script benchmarks/peers/cublas_gemms.py \
    --compile-seconds 150 --time-budget $((budget - 10)) \
    --json "$out/suite.json" --csv "$out/suite-layers.csv" > "$out/suite.log" 2> "$out/suite.err"
rc=$?
echo "jxception bench: exit $rc after $(( $(date +%s) - t0 )) s (124 = killed at the ${budget} s budget: no JSON)"
[[ $rc -ne 0 ]] && grep -vE "^\s+at " "$out/suite.err" | grep -E "error|Exception|Error" | tail -3
[[ -f "$out/suite.json" ]] && echo "wrote $out/suite.json ($(wc -c < "$out/suite.json") bytes)"

# The key tables, last: notes about peers, compile rows, throughput with ours / PyTorch, cuBLAS totals.
grep -E "^note +(peer|cuBLAS|cuda)" "$out/suite.log" | cut -c1-220 | head -6
grep -E "^peer +pytorch.* compile" "$out/suite.log"
grep -E "^peaks " "$out/suite.log" | sed -E 's/^peaks +.*\), ([a-z0-9]+), .*: ([0-9.]+ GFLOP\/s, [0-9.]+ GB\/s).*/peaks    \1: \2/'
awk '/^backend /{p=1; print; next} p && /^(cuda|cpu|opencl)/{print; next} {p=0}' "$out/suite.log"
awk '/^pointwise GEMMs against cuBLAS/{p=1; print; next} p && /^(config|cuda)/{print; next} {p=0}' "$out/suite.log"
