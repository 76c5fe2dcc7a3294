#!/usr/bin/env bash
# Data-parallel training on this machine's loopback: mpirun -np 2 bin/jxception train, per rank the
# step time split into compute, gradient exchange (MPI calls; the exposed wait at the step's end),
# staging (device <-> host copies for MPI) and data wait, as every rank's final line prints it.
#
#   benchmarks/mpi/run.sh [BACKEND]        (default opencl; needs mvn package and Open MPI's mpirun)
#
# Two networks, both 71x71 (the allreduce's cost depends on the parameter count, not the input):
#   reduced: width 1/16, 8 middle blocks, 10 classes (the README's MNIST example)
#   full:    width 1, 8 middle blocks, 1000 classes: 22,910,480 parameters, the ImageNet network's
#            gradient (91.6 MB fp32 per step), on a synthetic 1000-class folder of MNIST digits
# Each with the gradient buckets summed during the backward pass (--exchange overlap, the default)
# and after it (--exchange after); the full network also with --sync-bn.
# Writes benchmarks/results/mpi-<backend>-<date>.txt with the command lines, the machine's load and
# the ranks' lines.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
backend="${1:-opencl}"
out="benchmarks/results/mpi-$backend-$(date +%Y-%m-%d).txt"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi=(mpirun -np 2 --oversubscribe --bind-to none --mca btl self,vader --mca btl_vader_single_copy_mechanism none
     --mca oob_tcp_if_include lo --mca mpi_yield_when_idle 1)

# 1000 classes of 2 images each: links to the MNIST fixture (class c takes digit c % 10)
mkdir -p "$tmp/classes1000"
mnist="$PWD/weights/fixtures/mnist/train"
for c in $(seq 0 999); do
  d="$tmp/classes1000/c$(printf %04d "$c")"
  mkdir -p "$d"
  i=0
  for f in $(ls "$mnist/$((c % 10))" | head -2); do ln -s "$mnist/$((c % 10))/$f" "$d/$i.png"; i=$((i + 1)); done
done

run() {
  local name="$1"; shift
  local cmd=("${mpi[@]}" bin/jxception train "$@" --out "$tmp/$name" --backend "$backend" --no-plot --loader-threads 1 --checkpoint-every 0)
  {
    echo "## $name: ${cmd[*]}"
    echo "date: $(date -Iseconds); load before: $(cut -d' ' -f1-3 /proc/loadavg); cpus: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
    "${cmd[@]}" 2>&1 | grep -E '^\[rank [0-9]+/2\] (on |data parallel|training |finished|stopped)' || true
    echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
  } | tee -a "$out"
}

: > "$out"
reduced=(weights/fixtures/mnist/train --size 71 --width 0.0625 --batch 8 --epochs 1 --max-steps 12 --lr 0.05 --seed 1)
full=("$tmp/classes1000" --size 71 --width 1 --batch 2 --epochs 1 --max-steps 6 --lr 0.01 --seed 1)
run reduced-overlap "${reduced[@]}" --exchange overlap
run reduced-after "${reduced[@]}" --exchange after
run full-overlap "${full[@]}" --exchange overlap
run full-after "${full[@]}" --exchange after
run full-after-syncbn "${full[@]}" --exchange after --sync-bn
echo "wrote $out"
