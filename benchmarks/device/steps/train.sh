#!/usr/bin/env bash
# Device step "train" (run by benchmarks/device/check.sh; budget 175 s, every command under `timeout`):
#   1. CudaTrainingBenchmark: training img/s (upload + forward + backward + [fp16: device unscale/check]
#      + SGD; synchronized wall clock, 2 warm-up steps, median of up to 10 steps within 4 s per run)
#      for FP32, TF32, BF16, FP16 at 299x299 batch 32, full width                   (<= 20 s)
#      (from the second step on, forward + backward replay as one CUDA graph, the optimizer is one
#      launch each for unscale and SGD, and the next batch is copied while the step computes; the
#      summary line says "graph of N launches")
#   1a. The same at BF16 batch 32 with --no-replay (as before 2026-12-05: every launch enqueued from the
#      host, the batch copied before the step): what the three save per step          (<= 10 s)
#   1b. The tensor-core pointwise backward (issue 13, cuda.pwbwd=mma, cuda/pwbwd.cu):
#      its gpu tests (CudaPointwiseBackwardTest: against the CPU reference and the FFMA path, bitwise
#      repeats; CudaNetworkTest's training step with either path, and replayed steps against eager ones;
#      CudaWeightUpdateTest: the one-launch SGD and unscale against the per-tensor kernels, bitwise;
#      CudaActivationBuffersTest: 2-byte activation buffers in BF16/FP16, a session's memory halved;
#      on CC 9.0 also cuda.pwbwd=wgmma's cases: dgrad and wgrad on wgmma)                    (<= 50 s)
#      and CudaTrainingBenchmark at BF16 299x299, full width, back to back: the default
#      (-Djxception.cuda.pwbwd=ffma) at batch 32 (<= 12 s), -Djxception.cuda.pwbwd=mma at batch 32 and
#      128 (<= 28 s), -Djxception.cuda.pwbwd=wgmma at batch 128 (<= 16 s; CC 9.0 only, elsewhere it is
#      refused at open). ffma's batch-128 row gave way to wgmma's (same 56 s); earlier runs have it.
#   2. `jxception train` (the real CLI) on the committed MNIST fixture, the demo's configuration
#      (benchmarks/results/train-mnist.md) with --backend cuda at BF16 and at FP16 (dynamic loss
#      scaling): accuracy and img/s per epoch from its train_log.csv                  (<= 2 x 19 s)
# Needs $JAVA, $CP (target/classes, target/test-classes, jcuda + picocli jars: --no-plot, since the
# plot's xchart jar is not there), $WORK. Writes $WORK/train/: bench.csv, bench.log, cli-<p>/.
# Prints a short table last.
set -uo pipefail
out="$WORK/train"
mkdir -p "$out"
t0=$(date +%s)

timeout 20 "$JAVA" -Xmx16g -cp "$CP" io.jxception.internal.backend.cuda.CudaTrainingBenchmark --csv "$out/bench.csv" \
    --precisions FP32,TF32,BF16,FP16 --configs 299:32:1 --warmup 2 --reps 10 --run-seconds 3 --seconds 14 > "$out/bench.log" 2>&1
echo "training benchmark: exit $? (124 = timed out) at $(( $(date +%s) - t0 )) s" >> "$out/bench.log"
timeout 10 "$JAVA" -Xmx16g -cp "$CP" io.jxception.internal.backend.cuda.CudaTrainingBenchmark --csv "$out/bench-eager.csv" \
    --precisions BF16 --configs 299:32:1 --warmup 2 --reps 10 --run-seconds 3 --seconds 6 --no-replay > "$out/bench-eager.log" 2>&1
echo "training benchmark --no-replay: exit $? (124 = timed out) at $(( $(date +%s) - t0 )) s" >> "$out/bench-eager.log"

# 1b. cuda.pwbwd=mma: its tests, then the step time beside the default on the same card
cuda_tests=io.jxception.internal.backend.cuda
timeout 50 "$JAVA" -Xmx16g -jar .device/junit-console.jar execute --disable-banner --disable-ansi-colors --details=tree --class-path "$CP" \
    --select-class "$cuda_tests.CudaPointwiseBackwardTest" \
    --select-class "$cuda_tests.CudaWeightUpdateTest" \
    --select-class "$cuda_tests.CudaActivationBuffersTest" \
    --select-method "$cuda_tests.CudaNetworkTest#oneTrainingStepMatchesReference(io.jxception.backend.Precision, $cuda_tests.PointwiseBackwardPath\$Choice)" \
    --select-method "$cuda_tests.CudaNetworkTest#replayedTrainingStepsEqualEagerStepsBitwise(io.jxception.backend.Precision, $cuda_tests.PointwiseBackwardPath\$Choice)" \
    --include-tag gpu > "$out/pwbwd-tests.log" 2>&1
echo "pwbwd gpu tests: exit $? (124 = timed out) at $(( $(date +%s) - t0 )) s" >> "$out/pwbwd-tests.log"
# (mma also prints an op profile of 2 steps per config: where the step's device time goes, CUDA events per op)
# path, configs, timeout s, benchmark budget s
for run in "ffma 299:32:1 12 7" "mma 299:32:1,299:128:1 28 17" "wgmma 299:128:1 16 10"; do
    read -r path configs limit budget <<< "$run"
    extra=""
    [[ $path == mma ]] && extra="--profile 2"
    timeout "$limit" "$JAVA" -Xmx16g -Djxception.cuda.pwbwd=$path -cp "$CP" io.jxception.internal.backend.cuda.CudaTrainingBenchmark \
        --csv "$out/bench-pwbwd-$path.csv" --precisions BF16 --configs "$configs" --warmup 2 --reps 10 --run-seconds 3 --seconds $budget \
        $extra > "$out/bench-pwbwd-$path.log" 2>&1
    echo "training benchmark cuda.pwbwd=$path: exit $? (124 = timed out) at $(( $(date +%s) - t0 )) s" >> "$out/bench-pwbwd-$path.log"
done

for p in bf16 fp16; do
    timeout 19 "$JAVA" -Xmx4g -Djava.awt.headless=true -cp "$CP" io.jxception.cli.Main train \
        weights/fixtures/mnist/train --val weights/fixtures/mnist/val --out "$out/cli-$p" \
        --backend cuda --precision "$p" --size 71 --width 0.0625 --batch 16 --epochs 10 --lr 0.05 --schedule cosine \
        --warmup-steps 20 --crop 2 --seed 1 --loader-threads 4 --no-plot > "$out/cli-$p.log" 2>&1
    echo "jxception train $p: exit $? (124 = timed out) at $(( $(date +%s) - t0 )) s" >> "$out/cli-$p.log"
done

echo "==== train step ($(( $(date +%s) - t0 )) s)"
echo "-- CudaTrainingBenchmark (299x299 batch 32; full log $out/bench.log)"
sed -n '/^jxception CUDA training/,$p' "$out/bench.log" | tail -n +2
grep -E "FAILED|Exception|exit [1-9]" "$out/bench.log" | head -4
echo "-- the same, BF16, every launch from the host (--no-replay; full log $out/bench-eager.log)"
sed -n '/^jxception CUDA training/,$p' "$out/bench-eager.log" | tail -n +2
grep -E "FAILED|Exception|exit [1-9]" "$out/bench-eager.log" | head -2
echo "-- cuda.pwbwd=mma|wgmma gpu tests (full log $out/pwbwd-tests.log)"
grep -E "(tests|containers) (successful|failed|aborted)|exit [0-9]+ \(" "$out/pwbwd-tests.log"
grep -E "✘" "$out/pwbwd-tests.log" | head -8
for path in ffma mma wgmma; do
    echo "-- CudaTrainingBenchmark BF16 cuda.pwbwd=$path (full log $out/bench-pwbwd-$path.log)"
    sed -n '/^jxception CUDA training/,$p' "$out/bench-pwbwd-$path.log" | tail -n +2
    grep -E "FAILED|Exception|exit [1-9]" "$out/bench-pwbwd-$path.log" | head -3
done
echo "-- where a BF16 b128 step goes (cuda.pwbwd=mma, ops timed alone; per-shape rows in bench-pwbwd-mma.log)"
awk '/^# profile of .*b128/{f=1} f && /^-- the/{exit} f' "$out/bench-pwbwd-mma.log" | head -22
for p in bf16 fp16; do
    echo "-- jxception train --backend cuda --precision $p (MNIST fixture, demo config, 10 epochs)"
    grep -E "^training |exit [0-9]+ \(" "$out/cli-$p.log" | cut -c1-160
    grep -E "error|Exception" "$out/cli-$p.log" | head -3
    log="$out/cli-$p/train_log.csv"
    if [[ -f "$log" ]]; then
        # final epoch's accuracy; median img/s of epochs 2.. (epoch 1 holds JIT and kernel loading); POSIX awk + sort
        med="$(awk -F, 'NR > 1 && $1 > 1 { print $8 }' "$log" | sort -g | awk '{ v[NR] = $1 } END {
            if (NR == 0) print "n/a"; else if (NR % 2) printf "%.0f", v[(NR + 1) / 2]; else printf "%.0f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')"
        tail -n 1 "$log" | awk -F, -v med="$med" '{ printf "   epochs %d, final train acc %.3f, val acc %.3f, val loss %.3f, median img/s (epochs 2..) %s, skipped steps %d\n", $1, $5, $7, $6, med, $11 }'
    else
        echo "   no train_log.csv (no epoch finished)"
    fi
done
