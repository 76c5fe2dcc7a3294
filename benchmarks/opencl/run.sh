#!/usr/bin/env bash
# Runs a Java main of the OpenCL benchmarks/dev harness on the test classpath, from the repo root:
#   benchmarks/opencl/run.sh OpenClBenchmark --batches 1,8 --csv benchmarks/results/opencl-pocl-zen4-2026-11-26.csv
#   benchmarks/opencl/run.sh SepconvVariants
#   JAVA_OPTS=-Djxception.opencl.profile=true benchmarks/opencl/run.sh OpenClBenchmark --batches 1 --layers-batch 0 --train-batch 2
# (Maven's exec plugin is not available offline here, so the classpath comes from dependency:build-classpath.)
set -euo pipefail
cd "$(dirname "$0")/../.."
main="$1"; shift
mvn -o -q test-compile dependency:build-classpath -Dmdep.outputFile=target/test-classpath.txt -Dmdep.includeScope=test
exec java -Xmx6g ${JAVA_OPTS:-} -cp "target/classes:target/test-classes:$(cat target/test-classpath.txt)" "io.jxception.backend.opencl.$main" "$@"
