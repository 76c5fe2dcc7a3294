#!/usr/bin/env bash
# OpenCL on the NVIDIA card (sourced by steps/suite.sh; `bash opencl_icd.sh DIR` runs it alone and prints the outcome).
# The GPU machines ship NVIDIA's OpenCL driver (libnvidia-opencl.so.1, beside libcuda.so.1 in /usr/local/nvidia/lib64)
# and the ocl-icd loader, but /etc/OpenCL/vendors lists only pocl. `opencl_icd DIR` writes DIR/nvidia.icd naming the
# driver's library by its absolute path and exports OCL_ICD_VENDORS=DIR, so that the loader (in the JVM's LWJGL, and in
# opencl_probe.py) sees that platform alone: opencl:0 is then the card. Then it runs opencl_probe.py and exports
#   OPENCL_PROBE   its JSON (platforms, devices, the GPU's index in the backend's numbering)
#   OPENCL_GPU     "opencl:<index>" of the first GPU (OPENCL_PROBE_ARGS=--any: of any device), or "" when none
#   OPENCL_REASON  "" with a GPU, else why OpenCL on the card cannot load, in one line (no driver library, a library that
#                  does not load and the linker's message, no platform, no GPU device)
# NVIDIA_OPENCL_LIB overrides the driver library's path (a test names pocl's library here).
opencl_icd() {
    local dir="$1" lib="${NVIDIA_OPENCL_LIB:-}" here
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    OPENCL_PROBE="" OPENCL_GPU="" OPENCL_REASON=""
    if [[ -z "$lib" ]]; then
        for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64; do
            [[ -e "$d/libnvidia-opencl.so.1" ]] && lib="$d/libnvidia-opencl.so.1" && break
        done
    fi
    if [[ -z "$lib" || ! -e "$lib" ]]; then
        OPENCL_REASON="NVIDIA's OpenCL driver library (libnvidia-opencl.so.1) is not in /usr/local/nvidia/lib64, /usr/local/nvidia/lib, /usr/lib/x86_64-linux-gnu or /usr/lib64${lib:+ (asked for: $lib)}"
        export OPENCL_PROBE OPENCL_GPU OPENCL_REASON
        return 1
    fi
    mkdir -p "$dir" && rm -f "$dir"/*.icd
    echo "$lib" > "$dir/nvidia.icd"
    export OCL_ICD_VENDORS="$dir"
    OPENCL_PROBE="$(python3 "$here/opencl_probe.py" ${OPENCL_PROBE_ARGS:-} 2>&1)"
    local rc=$?
    OPENCL_GPU="$(printf '%s' "$OPENCL_PROBE" | python3 -c 'import json, sys
try: p = json.loads(sys.stdin.read())
except ValueError: sys.exit()
if p.get("device_index") is not None: print("opencl:%d" % p["device_index"])' 2>/dev/null)"
    if [[ $rc -ne 0 ]]; then
        OPENCL_REASON="$(printf '%s' "$OPENCL_PROBE" | python3 -c 'import json, sys
text = sys.stdin.read()
try: print(json.loads(text)["reason"])
except (ValueError, KeyError): print("opencl_probe.py failed: " + " ".join(text.split())[-400:])' 2>/dev/null)"
        [[ -z "$OPENCL_REASON" ]] && OPENCL_REASON="opencl_probe.py exited with status $rc"
    fi
    export OPENCL_PROBE OPENCL_GPU OPENCL_REASON
    [[ -z "$OPENCL_REASON" ]]
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    opencl_icd "${1:?usage: opencl_icd.sh DIR}"
    rc=$?
    echo "OCL_ICD_VENDORS=${OCL_ICD_VENDORS:-}"
    echo "OPENCL_GPU=$OPENCL_GPU"
    echo "OPENCL_REASON=$OPENCL_REASON"
    echo "OPENCL_PROBE=$OPENCL_PROBE"
    exit $rc
fi
