#!/usr/bin/env bash
# Builds the GPU bundle: a directory (and .tar.gz) that runs the engine on a GPU machine that has
# only the NVIDIA driver and the CUDA 13 libraries: no Java, no Maven, no network.
#
#   bench/gpu/make_bundle.sh [--skip-build] [--out DIR]
#
# DIR (default target/gpu-bundle) receives:
#   runtime/          a jlink Java runtime (Temurin 25), only the modules the jar needs
#   lmu-engine.jar    the shaded jar without native libraries the GPU run never loads
#   run_all.sh        runs check, the kernel benchmarks and a short training run
#   README.md         how to run it and read the results
# and DIR.tar.gz next to it. The script fails if the directory reaches 64 MiB.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
JDK="${JDK:-/usr/lib/jvm/temurin-25-jdk-amd64}"
OUT="$ROOT/target/gpu-bundle"
BUILD=1
LIMIT_MIB=64
while [ $# -gt 0 ]; do
    case "$1" in
        --skip-build) BUILD=0 ;;
        --out) OUT="$(realpath -m "$2")"; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "make_bundle.sh: unknown argument '$1' (expected --skip-build, --out DIR)" >&2; exit 2 ;;
    esac
    shift
done

# Modules of the runtime: `jdeps --print-module-deps` on the shaded jar lists java.base,
# java.compiler, java.desktop, java.management, java.sql and jdk.unsupported, but misses
# java.logging, which JCuda's LibUtils needs (jdeps on jcuda-12.6.0.jar alone finds it). Left out
# because the engine never uses them at run time:
#   java.compiler  only errorprone's compile-time annotations (gson)
#   java.sql       gson's optional java.sql.Date adapters, loaded only if the module is present
#   java.desktop   java.beans for SnakeYAML's JavaBean mapping: configs must be read as Maps,
#                  not mapped onto beans (the module alone would add 19 MiB)
# EXTRA_MODULES (comma-separated) adds modules back.
MODULES="java.base,java.logging,java.management,jdk.unsupported${EXTRA_MODULES:+,$EXTRA_MODULES}"

# Native libraries and classes in the shaded jar that a run on linux-x86_64 never loads:
# JCuda's runtime/NVRTC/PTX-compiler bindings (kernels are precompiled fatbins, driver API only),
# OpenBLAS's LAPACK and "full" variants and headers (the CPU GEMM uses openblas_nolapack; if code
# starts using org.bytedeco.openblas.global.openblas, drop the libjniopenblas.so line), and the
# org.bytedeco:cuda presets other than cudart, cuBLAS, cuFFT, cuDNN, NCCL and NVML.
# BundleSmoke.java (run below with the bundle's runtime) checks that what is left still loads.
EXCLUDES=(
    'lib/libJNvPTXCompiler-*' 'lib/libJNvrtc-*' 'lib/libJCudaRuntime-*'
    'org/bytedeco/openblas/linux-x86_64/libjniopenblas_full.so' 'org/bytedeco/openblas/linux-x86_64/include/*'
    'org/bytedeco/openblas/linux-x86_64/libjniopenblas.so'
    'org/bytedeco/openblas/global/openblas.class' 'org/bytedeco/openblas/global/openblas_full.class'
    'org/bytedeco/cuda/linux-x86_64/libjninpp*' 'org/bytedeco/cuda/global/npp*' 'org/bytedeco/cuda/npp*'
    'org/bytedeco/cuda/linux-x86_64/libjninvjpeg.so' 'org/bytedeco/cuda/linux-x86_64/libjnicusolver.so'
    'org/bytedeco/cuda/linux-x86_64/libjnicusparse.so' 'org/bytedeco/cuda/linux-x86_64/libjnicufile.so'
    'org/bytedeco/cuda/linux-x86_64/libjnicupti.so' 'org/bytedeco/cuda/linux-x86_64/libjninvcomp.so'
    'org/bytedeco/cuda/linux-x86_64/libjninvblas.so' 'org/bytedeco/cuda/linux-x86_64/libjnicufftw.so'
    'org/bytedeco/cuda/linux-x86_64/libjnicurand.so' 'org/bytedeco/cuda/linux-x86_64/libjninvrtc.so'
    'META-INF/native-image/*'
    'corpus/builtin/*'
)

need() { command -v "$1" >/dev/null || { echo "make_bundle.sh: '$1' is required" >&2; exit 1; }; }
need zip
need tar
[ -x "$JDK/bin/jlink" ] || { echo "make_bundle.sh: no jlink in $JDK (set JDK=...)" >&2; exit 1; }

if [ "$BUILD" = 1 ]; then
    command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ] \
        || { echo "make_bundle.sh: nvcc not found: the bundle needs the CUDA kernels" >&2; exit 1; }
    echo "== building the jar (with kernels)"
    (cd "$ROOT" && mvn -q -B package -DskipTests)
fi
JAR="$ROOT/target/lmu-engine.jar"
[ -f "$JAR" ] || { echo "make_bundle.sh: $JAR not found (build it or drop --skip-build)" >&2; exit 1; }
unzip -l "$JAR" kernels/manifest.properties >/dev/null 2>&1 \
    || echo "make_bundle.sh: warning: $JAR has no kernels (built with -Dkernels.skip?)" >&2

rm -rf "$OUT" "$OUT.tar.gz"
mkdir -p "$OUT"

echo "== jlink runtime: $MODULES"
"$JDK/bin/jlink" --add-modules "$MODULES" --strip-debug --no-man-pages --no-header-files \
    --compress=zip-9 --output "$OUT/runtime"
# jlink keeps libjvm.so's symbol table; dropping it saves about 5 MiB.
if command -v strip >/dev/null; then strip --strip-unneeded "$OUT/runtime/lib/server/libjvm.so"; fi

echo "== filtered jar"
cp "$JAR" "$OUT/lmu-engine.jar"
zip -q -d "$OUT/lmu-engine.jar" "${EXCLUDES[@]}" || true   # zip exits 12 when a pattern matches nothing

HERE="$(cd "$(dirname "$0")" && pwd)"
# The built-in corpus (12 MB of Opus) would push the bundle past 64 MiB: ship its test split only,
# as a manifest with audio beside it, for the short training run of run_all.sh.
mkdir -p "$OUT/corpus/audio"
cp "$ROOT/src/main/resources/corpus/builtin/test.jsonl" "$OUT/corpus/"
cp "$ROOT"/src/main/resources/corpus/builtin/audio/test-*.opus "$OUT/corpus/audio/"
cp "$HERE/run_all.sh" "$HERE/scaling.sh" "$HERE/torch_kernels.py" "$HERE/README.md" "$OUT/"
chmod +x "$OUT/run_all.sh" "$OUT/scaling.sh"
{
    echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "runtime: $("$OUT/runtime/bin/java" -version 2>&1 | head -1), modules $MODULES"
} > "$OUT/BUILD_INFO"

echo "== smoke test"
"$OUT/runtime/bin/java" -version 2>&1 | head -1
"$OUT/runtime/bin/java" -jar "$OUT/lmu-engine.jar" >/dev/null
# OpenBLAS, the CUDA probe and the environment report must work with the trimmed runtime and jar.
SMOKE="$(mktemp -d)"
"$JDK/bin/javac" -nowarn --release 17 -cp "$OUT/lmu-engine.jar" -d "$SMOKE" "$HERE/BundleSmoke.java"
if ! "$OUT/runtime/bin/java" --enable-native-access=ALL-UNNAMED -Djava.io.tmpdir="$SMOKE" \
        -Dorg.bytedeco.javacpp.cachedir="$SMOKE/javacpp" -cp "$OUT/lmu-engine.jar:$SMOKE" BundleSmoke; then
    rm -rf "$SMOKE"
    echo "make_bundle.sh: the bundle's runtime or jar lacks something (see above; EXTRA_MODULES=..., EXCLUDES)" >&2
    exit 1
fi
rm -rf "$SMOKE"

(cd "$(dirname "$OUT")" && tar czf "$OUT.tar.gz" "$(basename "$OUT")")
DIR_MIB=$(du -sm "$OUT" | cut -f1)
echo "== runtime $(du -sm "$OUT/runtime" | cut -f1) MiB, jar $(du -sm "$OUT/lmu-engine.jar" | cut -f1) MiB," \
     "directory $DIR_MIB MiB, $(basename "$OUT").tar.gz $(( $(stat -c %s "$OUT.tar.gz") / 1048576 )) MiB"
if [ "$DIR_MIB" -ge "$LIMIT_MIB" ]; then
    echo "make_bundle.sh: the bundle is $DIR_MIB MiB, over the $LIMIT_MIB MiB limit" >&2
    exit 1
fi
echo "$OUT ready"
