#!/usr/bin/env bash
# Runs a throughput harness (java/cli/src/test/java/io/jxception/throughput/) on the cli module's
# test classpath, from the repository root:
#   benchmarks/throughput/run.sh BatcherLoadBenchmark --backend opencl:0 --callers 1,8,64
#   benchmarks/throughput/run.sh EndToEndBenchmark --backend opencl:0 --size 299 --images 64
# Builds with Maven offline first (skip with NO_BUILD=1); JAVA_OPTS for the JVM (default -Xmx8g).
set -euo pipefail
cd "$(dirname "$0")/../.."
main="$1"; shift
cp_file=java/cli/target/test-classpath.txt
if [[ -z "${NO_BUILD:-}" ]]; then
    mvn -B -o -q -pl java/cli -am -DskipTests test-compile dependency:build-classpath -Dmdep.outputFile="$PWD/$cp_file" -Dmdep.includeScope=test
fi
cp="java/cli/target/test-classes:java/cli/target/classes:java/cuda/target/classes:java/core/target/classes:java/core/target/test-classes:$(cat "$cp_file")"
exec java ${JAVA_OPTS:--Xmx8g} -Djava.awt.headless=true -cp "$cp" "io.jxception.throughput.$main" "$@"
