#!/usr/bin/env bash
# Compiles cuda/*.cu into the resources the CUDA backend loads:
#   <classes>/io/jxception/cuda/<module>.ptx          compute_80 PTX (driver JIT on any newer GPU)
#   <classes>/io/jxception/cuda/<module>.sm_80.cubin   Ampere (8.x)
#   <classes>/io/jxception/cuda/<module>.sm_90.cubin   Hopper (9.x)
#   <classes>/io/jxception/cuda/<module>.sm_90a.cubin  Hopper-only modules (wgmma, setmaxnreg): the first line of
#                                                      the .cu says "// jx-arch: sm_90a"; no PTX, no other cubin
#   <classes>/io/jxception/cuda/kernels.properties     module lists, nvcc version, architectures
#   <target>/cuda/<module>.sm_90a.ptx                  the PTX of those modules (for the tests' signature checks)
#   <target>/cuda/ptxas-report.txt                     ptxas -v for every kernel and architecture
# Warnings are errors. Without nvcc (PATH or $CUDA_HOME/bin) it prints a note and succeeds; the
# backend then reports "kernels were not compiled (nvcc not found at build time)".
# Usage: cuda/build.sh <classes-dir> <target-dir>     (Maven runs it in generate-resources)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
classes="${1:?classes dir}"
target="${2:?target dir}"
out="$classes/io/jxception/cuda"
report="$target/cuda/ptxas-report.txt"

nvcc="$(command -v nvcc || true)"
if [[ -z "$nvcc" && -n "${CUDA_HOME:-}" && -x "$CUDA_HOME/bin/nvcc" ]]; then nvcc="$CUDA_HOME/bin/nvcc"; fi
if [[ -z "$nvcc" ]]; then
    echo "[cuda] nvcc not found (PATH, \$CUDA_HOME/bin): building without CUDA kernels" >&2
    rm -rf "$out" "$target/cuda"
    exit 0
fi

mkdir -p "$out" "$target/cuda/log"
modules=()        # every architecture: compute_80 PTX, sm_80 and sm_90 cubins
archModules=()    # one architecture-specific cubin (module:arch), named by the source's first line
for src in "$here"/*.cu; do
    m="$(basename "$src" .cu)"
    arch="$(head -1 "$src" | sed -n 's|^// jx-arch: \(sm_[0-9]*a\)$|\1|p')"
    if [[ -n "$arch" ]]; then archModules+=("$m:$arch"); else modules+=("$m"); fi
done
flags=(-std=c++17 -O3 --Werror all-warnings -Xptxas -Werror -I "$here")

# One job per (module, target); a job is skipped when its output is newer than every input.
jobs_file="$target/cuda/jobs.txt"
: > "$jobs_file"
newest_input="$(ls -t "$here"/*.cu "$here"/*.cuh "$0" | head -1)"
for m in "${modules[@]}"; do
    for t in ptx sm_80 sm_90; do
        if [[ $t == ptx ]]; then o="$out/$m.ptx"; else o="$out/$m.$t.cubin"; fi
        if [[ -f "$o" && "$o" -nt "$newest_input" && -f "$target/cuda/log/$m.$t.txt" ]]; then continue; fi
        echo "$m $t" >> "$jobs_file"
    done
done
for ma in "${archModules[@]}"; do
    m="${ma%%:*}"; t="${ma#*:}"; o="$out/$m.$t.cubin"
    if [[ -f "$o" && "$o" -nt "$newest_input" && -f "$target/cuda/log/$m.$t.txt" && -f "$target/cuda/$m.$t.ptx" ]]; then continue; fi
    echo "$m $t" >> "$jobs_file"
done

compile() {  # module target
    local m="$1" t="$2" log="$target/cuda/log/$1.$2.txt"
    if [[ $t == ptx ]]; then
        "$nvcc" "${flags[@]}" -ptx -arch=compute_80 -o "$out/$m.ptx.tmp" "$here/$m.cu" > "$log" 2>&1 || { cat "$log" >&2; return 1; }
        mv "$out/$m.ptx.tmp" "$out/$m.ptx"
    elif [[ $t == *a ]]; then  # sm_90a: the cubin for the jar, the PTX for the tests
        "$nvcc" "${flags[@]}" -cubin -arch="$t" -Xptxas -v -o "$out/$m.$t.cubin.tmp" "$here/$m.cu" > "$log" 2>&1 || { cat "$log" >&2; return 1; }
        "$nvcc" "${flags[@]}" -ptx -arch="compute_${t#sm_}" -o "$target/cuda/$m.$t.ptx.tmp" "$here/$m.cu" >> "$log" 2>&1 || { cat "$log" >&2; return 1; }
        mv "$out/$m.$t.cubin.tmp" "$out/$m.$t.cubin"
        mv "$target/cuda/$m.$t.ptx.tmp" "$target/cuda/$m.$t.ptx"
    else
        "$nvcc" "${flags[@]}" -cubin -arch="$t" -Xptxas -v -o "$out/$m.$t.cubin.tmp" "$here/$m.cu" > "$log" 2>&1 || { cat "$log" >&2; return 1; }
        mv "$out/$m.$t.cubin.tmp" "$out/$m.$t.cubin"
    fi
}
export -f compile
export nvcc out here target
export flags_str="${flags[*]}"
if [[ -s "$jobs_file" ]]; then
    echo "[cuda] compiling $(wc -l < "$jobs_file") kernel images with $("$nvcc" --version | tail -1)" >&2
    # flags travel as a string: the array is rebuilt inside each job
    xargs -P "${JX_NVCC_JOBS:-2}" -L 1 bash -c 'flags=($flags_str); compile "$0" "$1"' < "$jobs_file"
fi

# ptxas report: the -v output of every cubin, per architecture
: > "$report.tmp"
for m in "${modules[@]}"; do for t in sm_80 sm_90; do
    echo "## module $m target $t" >> "$report.tmp"
    grep -E "ptxas (info|warning)|bytes stack frame" "$target/cuda/log/$m.$t.txt" >> "$report.tmp" || true
done; done
for ma in "${archModules[@]}"; do
    m="${ma%%:*}"; t="${ma#*:}"
    echo "## module $m target $t" >> "$report.tmp"
    grep -E "ptxas (info|warning)|bytes stack frame" "$target/cuda/log/$m.$t.txt" >> "$report.tmp" || true
done
mv "$report.tmp" "$report"

{
    echo "# written by cuda/build.sh"
    echo "modules=$(IFS=,; echo "${modules[*]}")"
    echo "archModules=$(IFS=,; echo "${archModules[*]}")"
    echo "cubins=sm_80,sm_90"
    echo "ptx=compute_80"
    echo "nvcc=$("$nvcc" --version | grep -o 'release [0-9.]*' | head -1 | cut -d' ' -f2)"
} > "$out/kernels.properties"
echo "[cuda] kernels in $out, ptxas report in $report" >&2
