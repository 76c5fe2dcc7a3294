#!/usr/bin/env bash
# A real Spark standalone cluster on loopback, from the Spark jars Maven resolved for jxception-spark
# (no Spark distribution): one master and two workers, each its own JVM, then the same
# ImageInferenceJob submitted once per backend, and the single-process `bin/jxception classify` on the
# same files for comparison. Prints every run's img/s and a markdown table; exits non-zero if a job
# fails or if the cluster's predictions differ from classify's.
#
#   benchmarks/spark/standalone.sh                       # MNIST fixture (1000 PNGs), tiny Keras fixture network at 71x71, cpu and opencl
#   BACKENDS=opencl SIZE=299 WEIGHTS=/data/xception.h5 IMAGES=/data/photos benchmarks/spark/standalone.sh
#   BACKENDS=opencl SIZE=299 WEIGHTS=random IMAGES=weights/fixtures/mnist/val benchmarks/spark/standalone.sh
#                                  # the full-size network (22.9M random parameters, benchmarks/spark/RandomWeights.java)
#
# Settings (environment): IMAGES (folder, every file below it), WEIGHTS (.h5 or .safetensors with the
# classifier), SIZE (71), BATCH (8), TOP (1), BACKENDS ("cpu opencl"), RUNS (2: the first includes each
# executor opening its device and reading the weights), WORKER_CORES (1 per worker), EXECUTOR_MEMORY (1500m),
# OUT (java/spark/target/standalone: logs, work folders, outputs), SKIP_BUILD=1 (use the jars already built).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

images="$(cd "${IMAGES:-weights/fixtures/mnist}" && pwd)"
weights="${WEIGHTS:-weights/fixtures/h5/xception_tiny_top.h5}"
[ "$weights" = random ] || weights="$(cd "$(dirname "$weights")" && pwd)/$(basename "$weights")"
size="${SIZE:-71}"
batch="${BATCH:-8}"
top="${TOP:-1}"
backends="${BACKENDS:-cpu opencl}"
runs="${RUNS:-2}"
worker_cores="${WORKER_CORES:-1}"
executor_memory="${EXECUTOR_MEMORY:-1500m}"
out="${OUT:-$root/java/spark/target/standalone}"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"

# The JDK packages Spark 4 opens on Java 17 (org.apache.spark.launcher.JavaModuleOptions, less the
# options that only newer JVMs know).
opens="-XX:+IgnoreUnrecognizedVMOptions --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
 --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED
 --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
 --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
 --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED
 --add-opens=java.base/sun.util.calendar=ALL-UNNAMED --add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED
 -Dio.netty.tryReflectionSetAccessible=true"

# 1. Build: the jars of every module (bin/jxception, jxception-spark and its runtime jars in
#    java/spark/target/lib), and the class path of Spark itself ('provided' for jxception-spark).
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  # copy-dependencies only adds: jars of an earlier build's versions (e.g. two LWJGLs) must reach neither the
  # executors nor bin/jxception
  rm -rf java/spark/target/lib java/cli/target/lib
  mvn -B -q package -DskipTests
  mvn -B -q -o -pl java/spark -am -DskipTests package dependency:build-classpath \
      -Dmdep.includeScope=provided -Dmdep.outputFile=target/spark-classpath.txt
fi
if [ "$weights" = random ]; then
  mkdir -p java/spark/target/random-weights
  weights="$root/java/spark/target/random-weights/xception-imagenet-random.safetensors"
  [ -f "$weights" ] || "$java" -cp "java/cli/target/lib/*" benchmarks/spark/RandomWeights.java "$weights"
fi
app_jar="$(ls java/spark/target/jxception-spark-*.jar | grep -v -e -sources -e -tests | head -1)"
lib_jars="$(ls java/spark/target/lib/*.jar | tr '\n' ',' | sed 's/,$//')"
[ -s java/spark/target/spark-classpath.txt ] || { echo "standalone.sh: no Spark class path: run without SKIP_BUILD=1" >&2; exit 1; }

# 2. A SPARK_HOME made of links to those jars: workers build each executor's class path from
#    $SPARK_HOME/jars, as in a Spark distribution.
rm -rf "$out"
spark_home="$out/spark-home"
mkdir -p "$spark_home/jars" "$spark_home/conf" "$out/logs"
tr ':' '\n' < java/spark/target/spark-classpath.txt | while read -r jar; do ln -s "$jar" "$spark_home/jars/"; done
cat > "$spark_home/conf/log4j2.properties" <<'PROPS'
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss.SSS} %p %c{1}: %m%n%ex
logger.master.name = org.apache.spark.deploy
logger.master.level = info
PROPS
export SPARK_HOME="$spark_home" SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1 SPARK_CONF_DIR="$spark_home/conf"
classpath="$spark_home/conf:$spark_home/jars/*"

pids=()
stop_cluster() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_cluster EXIT

wait_for() { # file pattern count seconds
  for _ in $(seq 1 $(($4 * 2))); do
    if [ "$(grep -c "$2" "$1" 2>/dev/null || true)" -ge "$3" ]; then return 0; fi
    sleep 0.5
  done
  echo "standalone.sh: '$2' did not appear $3 time(s) in $1 within $4 s:" >&2
  tail -20 "$1" >&2
  exit 1
}

# 3. The cluster: master and two workers on 127.0.0.1, every port chosen by the system.
# shellcheck disable=SC2086 # $opens holds several words on purpose
"$java" $opens -Xmx512m -cp "$classpath" org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port 0 --webui-port 0 > "$out/logs/master.log" 2>&1 &
pids+=($!)
wait_for "$out/logs/master.log" "Starting Spark master at spark://" 1 120
master="$(grep -o 'spark://127.0.0.1:[0-9]*' "$out/logs/master.log" | head -1)"
for w in 1 2; do
  # shellcheck disable=SC2086
  "$java" $opens -Xmx512m -cp "$classpath" org.apache.spark.deploy.worker.Worker \
      --host 127.0.0.1 --port 0 --webui-port 0 --cores "$worker_cores" --memory 4g --work-dir "$out/work-$w" "$master" \
      > "$out/logs/worker-$w.log" 2>&1 &
  pids+=($!)
done
wait_for "$out/logs/master.log" "Registering worker" 2 120
echo "cluster: master $master, 2 workers with $worker_cores core(s) each (pids ${pids[*]})"

# 4. The job on each backend, then classify on the same files.
files="$out/files.txt"
find "$images" -type f | LC_ALL=C sort > "$files"
count="$(wc -l < "$files")"
declare -A spark_first spark_last classify_rate
status=0
for backend in $backends; do
  # shellcheck disable=SC2086
  "$java" $opens -Xmx1g -cp "$classpath" org.apache.spark.deploy.SparkSubmit \
      --master "$master" --deploy-mode client --conf spark.driver.host=127.0.0.1 --conf spark.ui.enabled=false \
      --executor-memory "$executor_memory" --executor-cores "$worker_cores" --total-executor-cores $((2 * worker_cores)) \
      --conf "spark.executor.extraJavaOptions=-Djava.io.tmpdir=$out/tmp" \
      --class io.jxception.spark.job.ImageInferenceJob --jars "$lib_jars" "$app_jar" \
      --weights "$weights" --images "$images" --size "$size" --batch "$batch" --top "$top" --backend "$backend" \
      --partitions 4 --runs "$runs" --print > "$out/spark-$backend.txt" 2> "$out/logs/driver-$backend.log" \
      || { echo "standalone.sh: the Spark job on $backend failed; driver log $out/logs/driver-$backend.log:" >&2; tail -30 "$out/logs/driver-$backend.log" >&2; exit 1; }
  grep '^run ' "$out/spark-$backend.txt"
  spark_first[$backend]="$(grep '^run 1:' "$out/spark-$backend.txt" | sed 's/.* s, \([0-9.]*\) img\/s.*/\1/')"
  spark_last[$backend]="$(grep "^run $runs:" "$out/spark-$backend.txt" | sed 's/.* s, \([0-9.]*\) img\/s.*/\1/')"

  start=$(date +%s.%N)
  xargs -a "$files" -d '\n' bin/jxception classify --weights "$weights" --size "$size" --batch "$batch" --top "$top" --backend "$backend" \
      > "$out/classify-$backend.txt"
  end=$(date +%s.%N)
  classify_rate[$backend]="$(awk -v n="$count" -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", n / (e - s) }')"
  echo "classify on $backend: $count images in $(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }') s, ${classify_rate[$backend]} img/s (one process, JVM start included)"

  if diff <(grep -v '^run ' "$out/spark-$backend.txt") "$out/classify-$backend.txt" > "$out/diff-$backend.txt"; then
    echo "predictions on $backend: the cluster's equal classify's for all $count images"
  else
    echo "predictions on $backend: the cluster's DIFFER from classify's ($(grep -c '^<' "$out/diff-$backend.txt") lines; $out/diff-$backend.txt)" >&2
    status=1
  fi
done

echo
echo "$(date -u +%Y-%m-%d), $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //') ($(nproc) cores), load $(cut -d' ' -f1-3 /proc/loadavg); $count images under $images, $(basename "$weights") at ${size}x${size}, batch $batch"
echo "| backend | cluster, run 1 (img/s) | cluster, run $runs (img/s) | classify, one process (img/s) |"
echo "|---|---:|---:|---:|"
for backend in $backends; do
  echo "| $backend | ${spark_first[$backend]} | ${spark_last[$backend]} | ${classify_rate[$backend]} |"
done
exit $status
