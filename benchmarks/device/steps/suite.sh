#!/usr/bin/env bash
# Device step "suite" (STEPS=suite bash benchmarks/device/check.sh; issue 11): one call makes the per-card page
# benchmarks/results/SUMMARY-<card>-<date>.md, with
#   - throughput: ours (CUDA bf16/fp32, OpenCL fp32 on the same card) against every PyTorch row: the Keras-exact port
#     and timm's legacy_xception, eager and torch.compile (default, max-autotune-no-cudagraphs), each ratio against the
#     best PyTorch row of its batch and precision
#   - per launch against the CARD's peaks: compute = best of our GEMM core and cuBLAS (torch.matmul, 8192^3/16384^3),
#     bandwidth = best of our addInPlace and torch's copy_ of 2 GiB (benchmarks/peers/card_peaks.py)
#   - per launch beside cuDNN (PyTorch eager doing each fused launch's work: benchmarks/peers/cudnn_layers.py; and cuDNN 9's
#     legacy API from the JVM through the JavaCPP CUDA 13 preset), CUDA and OpenCL side by side; cuBLAS on every pointwise GEMM
#     (torch.mm; in-process JCublas where libcublas.so.12 loads, else JavaCPP's cuBLAS 13)
#   - OpenCL on the card: an ICD file of our own names the driver's libnvidia-opencl.so.1 (opencl_icd.sh); first the
#     OpenCL network test at width 1/16 against the CPU reference, then opencl:<i> in the suite; where OpenCL cannot
#     load, the page says exactly why (the probe's reason, as a note)
#
# Budget plan (SUITE_S, default 510 s; run check.sh with timeout_s=570, ~9.5 min of the session's 15):
#      ~5 s   OpenCL ICD + probe (python ctypes)
#    <= 60 s  OpenCL correctness (OCL_TEST_S): OpenClNetworkTest through the JUnit console, opencl:0 = the card
#   the rest  jxception bench, killed at what is left less 25 s (render + exit):
#             eager phase first (expected 200-250 s on an H200): peaks (ours + card_peaks.py), then per batch 1, 32, 256:
#             CUDA bf16/fp32 and OpenCL fp32 per launch, PyTorch keras + timm eager, cuBLAS GEMMs, cuDNN per layer;
#             then torch.compile in what --time-budget leaves (expected 150-200 s): bf16 only (COMPILE_PRECISION), one
#             child per model x mode, timm first, default before max-autotune-no-cudagraphs, weighted shares (1:2) of
#             what is left, largest batch first; a run killed at its share keeps its finished rows and every eager row
#             stays (the JSON is written after the compile phase, inside the budget)
#    ~15 s    --from-json renders the page (markdown, CSVs, plots) into $WORK/suite/report
# For a session that wants room for a rerun: SUITE_S=360 (compile then gets ~60 s: the default-mode rows at most).
# Env (check.sh): $JAVA, $CP, $WORK. Knobs: SUITE_S, OCL_TEST_S, PRECISIONS (bf16,fp32), BATCHES (1,32,256),
# ITERATIONS (10), COMPILE_PRECISION (bf16), COMPILE_MODES (default,max-autotune-no-cudagraphs), PEER_MODELS (timm,keras);
# for a check of this script without a GPU: SUITE_BACKENDS (cuda), SIZE (299), NVIDIA_OPENCL_LIB and OPENCL_PROBE_ARGS=--any
# (opencl_icd.sh), e.g. SUITE_BACKENDS=cpu SIZE=71 BATCHES=1 ITERATIONS=1 NVIDIA_OPENCL_LIB=<pocl's .so> OPENCL_PROBE_ARGS=--any.
# Writes $WORK/suite/: suite.json, suite-layers.csv, suite.log (stdout tables), suite.err (progress, peer stderr),
# peaks.json, opencl-probe.json, opencl-tests.log, report/ (SUMMARY-<card>-<date>.md and the rest: copy it to
# benchmarks/results/). Prints last: OpenCL, notes, peaks, compile rows, the throughput table, cuBLAS and cuDNN totals.
set -uo pipefail
budget="${SUITE_S:-510}"
out="$WORK/suite"
mkdir -p "$out"
t0=$(date +%s)
left() { echo $(( budget - ($(date +%s) - t0) )); }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
notes=()

# JCublas 12.6 needs libcublas.so.12; a pip wheel (nvidia-cublas-cu12) may ship it beside a CUDA 13 torch.
cublas12="$(python3 -c 'import glob, site, os
for d in site.getsitepackages():
    for f in glob.glob(os.path.join(d, "nvidia", "cu*", "lib", "libcublas.so.12*")) + glob.glob(os.path.join(d, "nvidia", "cublas", "lib", "libcublas.so.12*")):
        print(os.path.dirname(f)); raise SystemExit' 2>/dev/null | head -1)"
[[ -n "$cublas12" ]] && export LD_LIBRARY_PATH="$cublas12${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "libcublas.so.12 for JCublas: ${cublas12:-none found (the report says cuBLAS unavailable: JCublas: ...)}"

# cuBLAS 13 and cuDNN 9 for the JVM peers (JavaCPP CUDA 13 preset: bench.JavaCppCublasGemms, bench.JavaCppCudnnLayers): the
# machine has them only inside torch's nvidia wheels (site-packages/nvidia/<lib>/lib: cublas, cudnn, cuda_runtime, cuda_nvrtc ...,
# or nvidia/cu13/lib). The dynamic linker reads LD_LIBRARY_PATH once, when the JVM starts, so every such folder goes on it here;
# cuDNN dlopens its engine libraries from the same folders. JavaCPP unpacks its JNI libraries under $WORK, not $HOME.
nvidia_libs="$(python3 -c 'import glob, os
try:
    import nvidia
    roots = list(nvidia.__path__)
except ImportError:
    import site
    roots = [os.path.join(d, "nvidia") for d in site.getsitepackages()]
print(":".join(dict.fromkeys(p for r in roots for p in sorted(glob.glob(os.path.join(r, "*", "lib"))))))' 2>/dev/null)"
[[ -n "$nvidia_libs" ]] && export LD_LIBRARY_PATH="$nvidia_libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
found() { local d; for d in ${nvidia_libs//:/ }; do ls "$d"/$1 >/dev/null 2>&1 && { echo "$d"; return; }; done; echo "not found"; }
echo "JVM cuBLAS 13 / cuDNN 9 (JavaCPP): $(tr ':' '\n' <<< "$nvidia_libs" | grep -c .) nvidia lib folders on LD_LIBRARY_PATH;" \
    "libcudart.so.13: $(found 'libcudart.so.13*'), libcublas.so.13: $(found 'libcublas.so.13*'), libcudnn_cnn.so.9: $(found 'libcudnn_cnn.so.9*')"
javacpp_opts=(-Dorg.bytedeco.javacpp.cachedir="$WORK/javacpp-cache")

# ---- OpenCL on the card: our own ICD folder, then the probe's verdict
source "$here/opencl_icd.sh"
opencl_icd "$WORK/opencl-vendors"
printf '%s\n' "$OPENCL_PROBE" > "$out/opencl-probe.json"
backends="${SUITE_BACKENDS:-cuda}"
if [[ -n "$OPENCL_GPU" ]]; then
    echo "OpenCL on the card: $OPENCL_GPU (OCL_ICD_VENDORS=$OCL_ICD_VENDORS)"
    backends="$backends,$OPENCL_GPU"
    # forward (71 and 299) and one training step of Xception at width 1/16 against the CPU reference; opencl:0 is the card
    # (the only platform OCL_ICD_VENDORS lists)
    timeout "${OCL_TEST_S:-60}" "$JAVA" -Xmx16g -jar .device/junit-console.jar execute --disable-banner --disable-ansi-colors --details=tree \
        --class-path "$CP" --select-class io.jxception.internal.backend.opencl.OpenClNetworkTest > "$out/opencl-tests.log" 2>&1
    rc=$?
    echo "OpenCL tests on the card: exit $rc (124 = timed out)" >> "$out/opencl-tests.log"
    verdict="$(grep -oE "[0-9]+ tests (successful|failed|aborted)" "$out/opencl-tests.log" | paste -sd ',' - | sed 's/,/, /g')"
    notes+=("opencl on the card: OpenClNetworkTest (Xception at width 1/16: forward at 71 and 299, features, one training step, against the CPU reference) exit $rc: ${verdict:-no summary (see opencl-tests.log)}")
    [[ $rc -ne 0 ]] && grep -E "✘|AssertionFailed|expected" "$out/opencl-tests.log" | head -5
else
    echo "OpenCL on the card unavailable: $OPENCL_REASON"
    notes+=("opencl on the card unavailable: $OPENCL_REASON")
fi

# ---- the suite: eager rows first, torch.compile in what --time-budget leaves
cache="/tmp/torchinductor_$(id -un)"
notes+=("torch.compile's inductor cache ($cache) was $([[ -d "$cache" ]] && echo "warm (it existed before the run)" || echo "cold (a fresh machine)"): first calls include every compile")
notes+=("device step: STEPS=suite bash benchmarks/device/check.sh (SUITE_S=$budget) at commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)")
suite_s=$(( $(left) - 25 ))
note_args=()
for n in "${notes[@]}"; do note_args+=(--note "$n"); done
echo "jxception bench: $suite_s s (backends $backends)"
PYTHONUNBUFFERED=1 timeout -k 5 "$suite_s" "$JAVA" -Xmx24g "${javacpp_opts[@]}" -cp "$CP" io.jxception.cli.Main bench \
    --backend "$backends" --precision "${PRECISIONS:-bf16,fp32}" --batch "${BATCHES:-1,32,256}" --size "${SIZE:-299}" --per-layer \
    --iterations "${ITERATIONS:-10}" --warmup 2 --remeasure --peaks-file "$out/peaks.json" --peers --python python3 \
    --peer-models "${PEER_MODELS:-timm,keras}" --peer-script benchmarks/peers/pytorch_xception.py \
    --gemm-script benchmarks/peers/cublas_gemms.py --peaks-script benchmarks/peers/card_peaks.py --layer-script benchmarks/peers/cudnn_layers.py \
    --compile-seconds "$suite_s" --time-budget $(( suite_s - 10 )) --compile-precision "${COMPILE_PRECISION:-bf16}" \
    --compile-modes "${COMPILE_MODES:-default,max-autotune-no-cudagraphs}" "${note_args[@]}" \
    --json "$out/suite.json" --csv "$out/suite-layers.csv" > "$out/suite.log" 2> "$out/suite.err"
rc=$?
echo "jxception bench: exit $rc after $(( $(date +%s) - t0 )) s (124 = killed at its $suite_s s: no JSON)"
[[ $rc -ne 0 ]] && grep -vE "^\s+at " "$out/suite.err" | grep -E "error|Exception|Error" | tail -3

# ---- the page, rendered from the JSON as the lead would here
if [[ -f "$out/suite.json" ]]; then
    timeout 60 "$JAVA" -Xmx8g -cp "$CP" io.jxception.cli.Main bench --from-json "$out/suite.json" --report "$out/report" > "$out/render.log" 2>&1
    echo "page: exit $? -> $(ls "$out"/report/SUMMARY-*.md 2>/dev/null | sed "s|$WORK/||")"
    [[ -n "${OUT:-}" ]] && cp "$out"/report/SUMMARY-*.md "$OUT/" 2>/dev/null   # beside results.tar.gz: the page, readable at once
fi

# ---- the key lines, last
grep -E "^note +(opencl|peer|cuBLAS|cuDNN|card peaks|cuda|torch|device step)" "$out/suite.log" | cut -c1-260 | head -16
grep -E "^peaks " "$out/suite.log" \
    | sed -E 's/^peaks +(.*) \((sm_|GPU).*\), ([a-z0-9]+), .*: ([0-9.]+ GFLOP\/s, [0-9.]+ GB\/s) \(measured [^;]*(; (.*))?\)$/peaks    \1 \3: \4 (\6)/' | cut -c1-200
grep -E "^peer .* compile" "$out/suite.log" | cut -c1-200
awk '/^backend /{p=1; print; next} p && /^(cuda|cpu|opencl)/{print; next} {p=0}' "$out/suite.log"
awk '/^pointwise GEMMs against cuBLAS/{p=1; print; next} p && /^(config|cuda)/{print; next} {p=0}' "$out/suite.log"
sed -n '/^| config | peer | launches | our ms (fused launches) |/,/^$/p' "$out"/report/SUMMARY-*.md 2>/dev/null | head -16
true
