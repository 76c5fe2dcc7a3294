#!/usr/bin/env bash
# Prepares everything benchmarks/device/check.sh needs on the GPU machine, here (no device time). What travels is two
# archives: .device/jre.tar.xz and .device/carry.tar.xz; check.sh unpacks the latter into .device/ before anything
# runs, so that the paths below (which the step scripts use) exist there. They are staged here in target/device/:
#   .device/classes/<module>, .device/test-classes/<module>  mvn package of java/core, java/cuda, java/cli (kernels
#                                         compiled by cuda/build.sh with nvcc), one folder per module (each has its own
#                                         META-INF/services), copied without the PTX and sm_80 cubins (an H100/H200 loads sm_90)
#   .device/deps                          the jars the GPU path needs: jcuda and its Linux driver binding, picocli, JCublas
#                                         (suite), LWJGL (the OpenCL backend: NVIDIA's OpenCL on the same card), jHDF, the
#                                         JavaCPP CUDA 13 preset with only its cudart/cuBLAS/cuDNN JNI libraries (suite)
#   .device/jre.tar.xz                    a jlink'ed Java runtime (the GPU machine may have no java)
#   .device/junit-console.jar             JUnit console launcher (runs the gpu-tagged tests)
#   .device/bin/<variant>                 the cuda/dev variants the step scripts run, built for sm_90 or the target on the
#                                         variant's "// device-build:" line (DEV_ALL=1: all)
# Every jar in carry.tar.xz is rewritten with stored (uncompressed) entries, so that xz packs the classes instead of
# deflate streams (classes, test classes, deps, bin, JUnit: 26.5 MiB as folders and deflated jars, 5.8 MiB as one tar.xz); jna and
# lz4-java keep only their linux-x86-64 native. The runtime's tar is xz'd with the x86 (BCJ) filter.
# .device/ is git-ignored; it travels as the run's `carry: [".device"]` (see README.md). The working tree that
# travels (tracked files + carry) must stay under 64 MiB: the script checks.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
stage=target/device   # the unpacked carry, kept here between runs (the dev binaries are rebuilt only when stale)
jdk="${JLINK_JDK:-/usr/lib/jvm/temurin-25-jdk-amd64}"
junit_version="$(sed -n 's|.*<junit.version>\(.*\)</junit.version>.*|\1|p' pom.xml)"
junit="${JUNIT_CONSOLE:-$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/$junit_version/junit-platform-console-standalone-$junit_version.jar}"
[[ -f "$junit" ]] || mvn -q dependency:get -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit_version" >/dev/null

command -v nvcc >/dev/null || { echo "prepare.sh: nvcc is needed to build the kernels and the dev variants" >&2; exit 1; }
echo "== mvn package (kernels + classes + test classes)"
# online: a fresh machine has not downloaded every plugin and dependency yet (an offline build then fails)
mvn -q -DskipTests package
test -f java/cuda/target/classes/io/jxception/cuda/kernels.properties || { echo "prepare.sh: kernels were not built" >&2; exit 1; }

# The device path (backends, cpu reference, exec, model, tensor, weights, bench) imports no third-party package
# but JCuda, picocli, LWJGL and jHDF; the JCuda natives jar keeps only libJCudaDriver (the others need CUDA 12
# libraries that the GPU machine does not have, and are 25 MB).
echo "== classes for the device"
# what an older prepare.sh, or check.sh run here, left unpacked in .device/ (only the archives travel); an older
# prepare.sh's dev binaries move to the stage (rebuilt below when stale)
[[ -d .device/bin && ! -e "$stage/bin" ]] && mkdir -p "$stage" && mv .device/bin "$stage/bin"
rm -rf .device/classes .device/test-classes .device/deps .device/bin .device/junit-console.jar .device/*.tmp
mkdir -p "$stage"
rm -rf "$stage/classes" "$stage/test-classes" && mkdir -p "$stage/classes" "$stage/test-classes"
for m in core cuda cli; do
    cp -r "java/$m/target/classes" "$stage/classes/$m"
    [[ -d "java/$m/target/test-classes/io" ]] && mkdir -p "$stage/test-classes/$m" && cp -r "java/$m/target/test-classes/." "$stage/test-classes/$m/"
done
rm -f "$stage"/classes/cuda/io/jxception/cuda/*.ptx "$stage"/classes/cuda/io/jxception/cuda/*.sm_80.cubin
rm -rf "$stage/test-classes/core/fixtures"   # a copy of weights/fixtures, which travels as tracked files
rm -rf "$stage"/test-classes/core/io/jxception/fuzz/*Inputs   # the fuzz targets' corpora: no gpu test reads them

echo "== jars for the device"
rm -rf "$stage/deps" && mkdir -p "$stage/deps" "$stage/bin"
m2="$HOME/.m2/repository/org/jcuda"
# the CLI's and the core library's jars, as Maven resolved them for jxception-cli (picocli: the suite runs through
# `jxception bench`; LWJGL: the OpenCL backend; jHDF and its dependencies: .h5 weights; XChart, 0.35 MB: the suite step
# draws its page's plots there)
# (java/cli/target/lib is what `mvn package` copied for bin/jxception; our own jars travel as class folders above)
for jar in java/cli/target/lib/*.jar; do
    case "$(basename "$jar")" in
        jxception-*|jcuda-natives-*|*natives-linux-arm64*) ;;
        *) cp "$jar" "$stage/deps/" ;;
    esac
done
tmp="$(mktemp -d)"
(cd "$tmp" && unzip -q "$m2/jcuda-natives/12.6.0/jcuda-natives-12.6.0-linux-x86_64.jar" 'lib/libJCudaDriver-*' 'META-INF/MANIFEST.MF' \
    && "$jdk/bin/jar" --create --file "$root/$stage/deps/jcuda-natives-driver-12.6.0-linux-x86_64.jar" --manifest META-INF/MANIFEST.MF lib)
rm -rf "$tmp"
# JCublas for the suite's in-process cuBLAS peer (0.5 MB; it loads only where libcublas.so.12 is installed, else the
# report says "cuBLAS unavailable: JCublas: ..." and the torch.mm peer gives the cuBLAS numbers)
cp "$m2/jcublas/12.6.0/jcublas-12.6.0.jar" "$m2/jcublas-natives/12.6.0/jcublas-natives-12.6.0-linux-x86_64.jar" "$stage/deps/"
# the JavaCPP CUDA 13 preset for the suite's JVM cuBLAS 13 / cuDNN 9 peers (bench.JavaCppCublasGemms, bench.JavaCppCudnnLayers):
# its classes (1.07 MB), JavaCPP (0.53 MB + its 0.05 MB natives jar with libjnijavacpp.so) and a natives jar trimmed from 5.0 MB
# to the three JNI libraries the peers load (0.85 MB), at the paths JavaCPP's Loader looks for them:
#   libjnicudart.so  NEEDS libcudart.so.13, libcuda.so.1
#   libjnicublas.so  NEEDS libcublas.so.13, libcublasLt.so.13
#   libjnicudnn.so   NEEDS libcudnn_{cnn,adv,ops,graph}.so.9
# (readelf -d; the CUDA libraries come from torch's nvidia wheels through LD_LIBRARY_PATH, set by steps/suite.sh)
bytedeco="$HOME/.m2/repository/org/bytedeco"
cuda_preset="$(sed -n 's|.*<javacpp.cuda.version>\(.*\)</javacpp.cuda.version>.*|\1|p' pom.xml)"
javacpp_version="$(sed -n 's|.*<javacpp.version>\(.*\)</javacpp.version>.*|\1|p' pom.xml)"
cuda_preset="${cuda_preset//\$\{javacpp.version\}/$javacpp_version}"
cp "$bytedeco/cuda/$cuda_preset/cuda-$cuda_preset.jar" "$bytedeco/javacpp/$javacpp_version/javacpp-$javacpp_version.jar" \
   "$bytedeco/javacpp/$javacpp_version/javacpp-$javacpp_version-linux-x86_64.jar" "$stage/deps/"
tmp="$(mktemp -d)"
(cd "$tmp" && unzip -q "$bytedeco/cuda/$cuda_preset/cuda-$cuda_preset-linux-x86_64.jar" 'META-INF/MANIFEST.MF' \
        'org/bytedeco/cuda/linux-x86_64/libjnicudart.so' 'org/bytedeco/cuda/linux-x86_64/libjnicublas.so' 'org/bytedeco/cuda/linux-x86_64/libjnicudnn.so' \
    && "$jdk/bin/jar" --create --file "$root/$stage/deps/cuda-$cuda_preset-linux-x86_64-cudart-cublas-cudnn.jar" --manifest META-INF/MANIFEST.MF org)
rm -rf "$tmp"

echo "== Java runtime (jlink from $jdk)"
mkdir -p .device
if [[ ! -f .device/jre.tar.xz || "$jdk/release" -nt .device/jre.tar.xz || "$0" -nt .device/jre.tar.xz ]]; then
    tmp="$(mktemp -d)"
    # uncompressed modules: xz then packs them to 21 MB instead of 33 MB for zip-compressed ones; the x86 (BCJ)
    # filter before LZMA2 takes another 0.45 MB off (libjvm.so and the other natives; lossless, any xz decodes it)
    "$jdk/bin/jlink" --add-modules java.base,java.desktop,java.logging,java.management,java.xml,jdk.unsupported \
        --strip-debug --no-man-pages --no-header-files --output "$tmp/jre"
    rm -f "$tmp"/jre/lib/server/classes*.jsa
    tar -cf - -C "$tmp" jre | xz --x86 --lzma2=preset=9e -T2 > .device/jre.tar.xz
    rm -rf "$tmp"
fi
echo "== JUnit console launcher"
cp "$junit" "$stage/junit-console.jar"

echo "== cuda/dev variants for sm_90 / sm_90a"
newest_cuda="$(ls -t cuda/*.cu cuda/*.cuh cuda/dev/*.cuh | head -1)"
wanted=" $(grep -oh '\.device/bin/[A-Za-z0-9_]*' benchmarks/device/steps/*.sh 2>/dev/null | sed 's|.*/||' | sort -u | tr '\n' ' ')"
for v in cuda/dev/*_v[0-9]*.cu; do
    name="$(basename "$v" .cu)"
    b="$stage/bin/$name"
    if [[ -z "${DEV_ALL:-}" && "$wanted" != *" $name "* ]]; then rm -f "$b"; continue; fi
    # a variant that #includes another cuda/dev variant (sepconv_wgmma_v1 -> pwgemm_v1.cu; sepconv_wgmma_v2 -> sepconv_wgmma_v1.cu
    # -> pwgemm_v1.cu: two levels) is stale when that one is newer
    included_newer=""
    for d in $(sed -n 's|^#include "\([A-Za-z0-9_]*\.cu\)".*|cuda/dev/\1|p' "$v"); do
        [[ "$d" -nt "$b" ]] && included_newer=1
        for d2 in $(sed -n 's|^#include "\([A-Za-z0-9_]*\.cu\)".*|cuda/dev/\1|p' "$d" 2>/dev/null); do [[ "$d2" -nt "$b" ]] && included_newer=1; done
    done
    if [[ ! -x "$b" || "$v" -nt "$b" || "$newest_cuda" -nt "$b" || -n "$included_newer" ]]; then
        # a variant names its own target on a "// device-build:" line (pwgemm: sm_90a for wgmma/setmaxnreg)
        arch="$(sed -n 's|^// device-build: *||p' "$v" | head -1)"
        nvcc -std=c++17 -O3 --Werror all-warnings ${arch:--gencode arch=compute_90,code=sm_90} -o "$b" "$v"
        strip "$b"   # host symbols only (the cubins are data): ~0.3 MB a binary of the 64 MiB
    fi
done

echo "== .device/carry.tar.xz (check.sh unpacks it into .device/)"
# jars with stored entries (same names, order, manifests and times; xz then compresses across all of them); the natives
# of other platforms leave jna (27 of them, 5.4 MB unpacked) and lz4-java (8); JNA and lz4 load linux-x86-64 / linux/amd64
python3 - "$stage"/deps/*.jar "$stage/junit-console.jar" <<'PY'
import os, re, sys, zipfile
drop = {"jna-": r"^com/sun/jna/(?!linux-x86-64/)[^/]+-[^/]+/[^/]+\.(so|a|dll|jnilib|dylib)$",
        "lz4-java-": r"^net/jpountz/util/(?!linux/amd64/)[^/]+/[^/]+/[^/]+\.(so|dll|dylib)$"}
for path in sys.argv[1:]:
    rx = next((re.compile(r) for p, r in drop.items() if os.path.basename(path).startswith(p)), None)
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(path + ".tmp", "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            if rx and rx.search(info.filename):
                continue
            data = zin.read(info)
            info.compress_type = zipfile.ZIP_STORED
            zout.writestr(info, data)
    os.replace(path + ".tmp", path)
PY
(cd "$stage" && tar --sort=name --owner=0 --group=0 -cf - classes test-classes deps bin junit-console.jar) | xz -9e -T2 > .device/carry.tar.xz.tmp
mv .device/carry.tar.xz.tmp .device/carry.tar.xz
for d in classes test-classes deps bin junit-console.jar; do
    printf '   %6.1f MiB  %s (unpacked)\n' "$(find "$stage/$d" -type f -printf '%s\n' | awk '{ s += $1 } END { print s / 1048576 }')" "$d"
done

echo "== working tree that travels (limit 64 MiB: tracked and untracked-not-ignored files + .device, in bytes)"
# file sizes in bytes, summed in one pass (du's block sizes doubled the count of the many small files, and
# `xargs du -c | tail -1` only saw the last of xargs' batches)
tree_b="$({ git ls-files -z; git ls-files -z --others --exclude-standard; } | xargs -0 -r stat -c %s 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')"
carry_b="$(find .device -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')"
for d in .device/*; do printf '   %6.1f MiB  %s\n' "$(find "$d" -type f -printf '%s\n' | awk '{ s += $1 } END { print s / 1048576 }')" "$d"; done
awk -v t="$tree_b" -v c="$carry_b" 'BEGIN { printf "   tree %.1f MiB + .device %.1f MiB = %.1f MiB\n", t/1048576, c/1048576, (t+c)/1048576; exit ((t+c)/1048576 > 62) }' \
    || { echo "prepare.sh: over 62 MiB: the device call would be refused (64 MiB a call)" >&2; exit 1; }
echo "prepare.sh: done. Device call: see benchmarks/device/README.md"
