# Sourced by each benchmarks/device/steps/<name>.sh as its first action:
#   source "$(dirname "$0")/../step_start.sh" <name> <budget seconds>
# Goes to the repository root, makes $out = $WORK/<name>, starts the step's clock (t0) and defines
#   left      seconds of the budget still left (at least 1)
#   cap N     min(N, left): the timeout to give one part, so the parts together keep to the budget
#   run_variant <name> <log> <run budget> <rebuild budget> <args...>: runs .device/bin/<name> <args> (a cuda/dev program),
#             and when it does not start (no INFO line) builds cuda/dev/<name>.cu with the device's nvcc (the flags
#             of its "// device-build:" line, at most $build_s seconds, default 45) and runs that. Sets $bin to
#             what ran and $rc to its exit status; build messages go to $out/build.log.
#   memcheck_small <log> <seconds>: compute-sanitizer memcheck on "$bin small" (the last run_variant's program),
#             at most <seconds> (capped by the budget); a missing binary or sanitizer is written to <log> as skipped.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="$WORK/$1"
mkdir -p "$out"
step_budget="$2"
t0=$(date +%s)
left() { local l=$(( step_budget - ($(date +%s) - t0) )); echo $(( l < 1 ? 1 : l )); }
cap() { local l; l=$(left); echo $(( $1 < l ? $1 : l )); }

run_variant() {
    local name="$1" log="$2" budget="$3" rebuild="$4"
    shift 4
    local src="cuda/dev/$name.cu" flags
    bin=".device/bin/$name"
    rc=127
    [[ -x "$bin" ]] && { timeout "$(cap "$budget")" "$bin" "$@" > "$log" 2>&1; rc=$?; }
    if [[ $rc -ne 124 ]] && ! grep -q "^INFO" "$log" 2>/dev/null; then
        echo "$name did not start (exit $rc): building with the device's nvcc" >> "$out/build.log"
        flags="$(sed -n 's|^// device-build: *||p' "$src" | head -1)"
        mkdir -p "$out/bin"
        if timeout "$(cap "${build_s:-45}")" nvcc -std=c++17 -O3 --Werror all-warnings -Xptxas -Werror -Xptxas -v $flags -o "$out/bin/$name" "$src" \
            >> "$out/build.log" 2>&1; then
            echo "built $name with the device's nvcc ($(nvcc --version | grep -o 'release [0-9.]*'))" >> "$out/build.log"
            bin="$out/bin/$name"
            timeout "$(cap "$rebuild")" "$bin" "$@" > "$log" 2>&1
            rc=$?
        else
            echo "build of $name failed or timed out (exit $?)" >> "$out/build.log"
        fi
    fi
    echo "$name: exit $rc (2 = a check failed, 1 = CUDA error, 124 = timed out)" >> "$log"
}

memcheck_small() {
    local log="$1" seconds="$2"
    if [[ -x "$bin" ]] && command -v compute-sanitizer > /dev/null; then
        timeout "$(cap "$seconds")" compute-sanitizer --tool memcheck --print-limit 20 "$bin" small > "$log" 2>&1
        echo "compute-sanitizer memcheck: exit $? (124 = timed out)" >> "$log"
    else
        echo "compute-sanitizer or the binary missing: skipped" > "$log"
    fi
}
