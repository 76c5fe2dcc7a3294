#!/usr/bin/env bash
# PyTorch CPU, then jxception OpenCL (pocl), then PyTorch again, all at 299x299 batch 1 and 8, into one
# CSV; each waits (up to 10 minutes) for the 1-minute load average to drop below 1, because on a
# shared 2-core machine another job halves one side's cores. From the repository root:
#   benchmarks/opencl/side_by_side.sh benchmarks/results/opencl-pocl-zen4-2026-11-26.csv
set -euo pipefail
cd "$(dirname "$0")/../.."
csv="${1:?usage: side_by_side.sh OUT.csv}"
wait_quiet() {
  for _ in $(seq 1 60); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    awk "BEGIN{exit !($load < 1.0)}" && return 0
    sleep 10
  done
  echo "load still $(cut -d' ' -f1 /proc/loadavg) after 10 minutes; measuring anyway" >&2
}
wait_quiet; /usr/bin/python3 benchmarks/opencl/pytorch_cpu_xception.py --batches 1,8 --reps 10 --csv "$csv"
wait_quiet; benchmarks/opencl/run.sh OpenClBenchmark --batches 1,8 --layers-batch 8 --reps 7 --train-batch 2 --csv "$csv"
wait_quiet; /usr/bin/python3 benchmarks/opencl/pytorch_cpu_xception.py --batches 1,8 --reps 10 --csv "$csv"
