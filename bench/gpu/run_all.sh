#!/usr/bin/env bash
# Runs everything the GPU machine is for, from the bundle directory, and keeps going when a step
# fails: the environment report, a self test of the CUDA plumbing, the CPU-vs-CUDA parity check
# of every kernel, the kernel benchmarks and a short training run. Results go to results/<gpu>-<utc time>/ (one .out and
# .err per step, summary.tsv with exit codes and durations) and a .tar.gz of that folder.
#
#   ./run_all.sh [--out DIR] [--skip STEP]...     STEP: environment gpu-environment cuda-selftest
#                                                  check bench-backend bench-model-kernels bench-loader
#                                                  bench-loader-device torch-kernels bench-step bench-step-graphs
#                                                  train train-features-device memory scaling
#
# Environment: JAVA_OPTS (default -Xmx16g), TRAIN_ARGS (default: a short run on the bundled test
# split of the built-in corpus, "--debug --device cuda --data corpus/test.jsonl ..."),
# TRAIN_TIMEOUT seconds (default 900), MEMORY_FRAMES (default 400: frames per utterance in the
# memory step, the built-in configs/seed.yaml at batch 96 in fp32, fp16 and bf16), SCALING_ARGS
# (more train flags for scaling.sh), LMU_NO_LIB_SEARCH=1 to skip searching the disk for the CUDA 13
# libraries (cuBLAS, cuFFT, cuDNN, NCCL) to put on LD_LIBRARY_PATH.
set -uo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
JAVA="$HERE/runtime/bin/java"
JAR="$HERE/lmu-engine.jar"
JAVA_OPTS="${JAVA_OPTS:--Xmx16g}"
TRAIN_ARGS="${TRAIN_ARGS:---debug --device cuda --data $HERE/corpus/test.jsonl --valid-data $HERE/corpus/test.jsonl}"
TRAIN_TIMEOUT="${TRAIN_TIMEOUT:-900}"
OUT=""
SKIP=" "
PRINT_ENV=0
while [ $# -gt 0 ]; do
    case "$1" in
        --out) OUT="$2"; shift ;;
        --skip) SKIP="$SKIP$2 "; shift ;;
        --print-environment) PRINT_ENV=1 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "run_all.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
done

environment() {
    echo "gpu: ${GPU_NAME:-none}"
    nvidia-smi || true
    nvidia-smi --query-gpu=index,name,pci.bus_id,driver_version,memory.total,clocks.max.sm,power.limit --format=csv || true
    nvidia-smi topo -m || true
    echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
    uname -a; ldd --version 2>&1 | head -1; nproc; free -g
    cat "$HERE/BUILD_INFO" 2>/dev/null || true
}

GPU_NAME="$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)"
GPU_TAG="$(printf '%s' "${GPU_NAME:-no-gpu}" | tr -cs 'A-Za-z0-9._-' '-' | sed 's/^-*//; s/-*$//')"
if [ "$PRINT_ENV" = 1 ]; then environment; exit 0; fi  # the environment step, run by step() below
RES="${OUT:-$HERE/results/${GPU_TAG}-$(date -u +%Y%m%d-%H%M%S)}"
mkdir -p "$RES"
RES="$(cd "$RES" && pwd)"   # absolute: every step runs inside it
SUMMARY="$RES/summary.tsv"
printf 'step\texit\tseconds\tcommand\n' > "$SUMMARY"
FAILED=0

# The CUDA 13 libraries of org.bytedeco:cuda are not on the default path of most GPU machines
# (toolkit under /usr/local/cuda*, cuDNN and NCCL often in pip nvidia-* wheels): find them once.
if [ -z "${LMU_NO_LIB_SEARCH:-}" ]; then
    DIRS="$(timeout 120 find / \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path "$HERE" \) -prune -o \
        \( -name 'libcudart.so.13' -o -name 'libcublas.so.13' -o -name 'libcufft.so.12' \
           -o -name 'libcudnn.so.9' -o -name 'libnccl.so.2' \) -print 2>/dev/null \
        | xargs -r -n1 dirname | sort -u | paste -sd: -)"
    if [ -n "$DIRS" ]; then export LD_LIBRARY_PATH="$DIRS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
fi

# JCuda and JavaCPP unpack their JNI libraries; keep them inside the bundle.
mkdir -p "$HERE/.cache/tmp"
JVM=("$JAVA" $JAVA_OPTS --enable-native-access=ALL-UNNAMED "-Djava.io.tmpdir=$HERE/.cache/tmp" "-Dorg.bytedeco.javacpp.cachedir=$HERE/.cache/javacpp"
     "-XX:ErrorFile=$RES/hs_err_%p.log")

# step NAME TIMEOUT_SECONDS COMMAND...: runs in $RES, output to NAME.out / NAME.err, never stops the script
step() {
    local name="$1" limit="$2"; shift 2
    local shown="$*"
    shown="${shown//$HERE\//}"
    case "$SKIP" in *" $name "*) printf '%s\tskipped\t0\t%s\n' "$name" "$shown" >> "$SUMMARY"; return ;; esac
    echo "== $name"
    local start=$SECONDS rc
    (cd "$RES" && timeout --kill-after=30 "$limit" "$@" > "$RES/$name.out" 2> "$RES/$name.err")
    rc=$?
    [ "$rc" = 124 ] && echo "timed out after ${limit}s" >> "$RES/$name.err"
    [ "$rc" = 0 ] || FAILED=$((FAILED + 1))
    printf '%s\t%s\t%s\t%s\n' "$name" "$rc" "$((SECONDS - start))" "$shown" >> "$SUMMARY"
    echo "   exit $rc, $((SECONDS - start)) s"
}

step environment 300 bash "$HERE/run_all.sh" --print-environment
step gpu-environment 300 "${JVM[@]}" -cp "$JAR" lmu.backend.cuda.GpuEnvironment
step cuda-selftest 600 "${JVM[@]}" -cp "$JAR" lmu.backend.cuda.CudaSelfTest
# --json where this version of `check` has it (the intended interface), else the text table
CHECK_ARGS=(check --parity)
if "${JVM[@]}" -jar "$JAR" check --help 2>/dev/null | grep -- '--json' >/dev/null; then CHECK_ARGS+=(--json); fi
step check 1800 "${JVM[@]}" -jar "$JAR" "${CHECK_ARGS[@]}"
# every CudaBackend op: CUDA-event timings, GB/s, % of the memory peak, matmul TFLOP/s
step bench-backend 600 "${JVM[@]}" -cp "$JAR" lmu.backend.cuda.BackendBenchmark "$RES/bench-backend.json"
# CTC, LMU recurrence and convolution, attention, log-mel: CUDA-event timings, model-kernels.json
step bench-model-kernels 1200 "${JVM[@]}" -cp "$JAR" lmu.backend.cuda.kernels.ModelKernelBenchmark
# the data.features_on paths side by side, 8 loader threads, synthetic 2-6 s WAV: log-mel, CMVN and SpecAugment
# on the loader threads, then on the GPU per batch (loader threads only decode); x real time, the logmel row above is kernel-only
step bench-loader 600 "${JVM[@]}" -jar "$JAR" bench-loader --source wav --threads 8 --utterances 800
step bench-loader-device 600 "${JVM[@]}" -jar "$JAR" bench-loader --source wav --threads 8 --utterances 800 --features-on device --device cuda
# the same shapes in PyTorch (torch-kernels.json), only where this machine's python3 has torch
if python3 -c 'import torch' >/dev/null 2>&1; then
    step torch-kernels 900 python3 "$HERE/torch_kernels.py"
else
    printf 'torch-kernels\tskipped\t0\tpython3 cannot import torch\n' >> "$SUMMARY"
fi
# whole training steps of configs/seed.yaml on the GPU (forward, backward, optimizer), batch 96
step bench-step 900 "${JVM[@]}" -jar "$JAR" bench-step --device cuda --batch-size 96
# the trainer's device step launched eagerly, then captured as a CUDA graph and replayed (launch overhead);
# a capture that fails says why in the output and the step runs eagerly
step bench-step-graphs 900 bash -c '"$@" --cuda-graphs off && "$@" --cuda-graphs on' _ "${JVM[@]}" -jar "$JAR" bench-step \
    --device cuda --batch-size 96 --steps 10
# shellcheck disable=SC2086 # TRAIN_ARGS is a list of flags
step train "$TRAIN_TIMEOUT" "${JVM[@]}" -jar "$JAR" train $TRAIN_ARGS
# the same run with the features computed on the GPU (data.features_on: device); compare steps/s and losses with train.out
# shellcheck disable=SC2086
step train-features-device "$TRAIN_TIMEOUT" "${JVM[@]}" -jar "$JAR" train $TRAIN_ARGS --set data.features_on=device --output-dir runs/features-on-device
# device memory of one training step (allocator statistics: kept for backward and peak) against the estimate
step memory 900 "${JVM[@]}" -cp "$JAR" lmu.train.ActivationMemory --batch-size 96 --frames "${MEMORY_FRAMES:-400}" --precisions off,fp16,bf16
# data-parallel scaling over 1, 2, 4 ... GPUs (machines with several GPUs): scaling.md
if [ "$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ')" -gt 1 ]; then
    step scaling 7200 env LMU_JAVA="$JAVA" LMU_JAR="$JAR" LMU_JAVA_OPTS="${JVM[*]:1}" TRAIN_ARGS="${SCALING_ARGS:-}" bash "$HERE/scaling.sh" \
        --data "$HERE/corpus/test.jsonl" --out "$RES/scaling.md"
fi

# check --json prints JSON on stdout: keep it under its own name as well
if [[ " ${CHECK_ARGS[*]} " == *" --json "* ]] && [ -s "$RES/check.out" ]; then cp "$RES/check.out" "$RES/check.json"; fi

echo "== summary ($RES)"
column -t -s $'\t' "$SUMMARY" 2>/dev/null || cat "$SUMMARY"
tar czf "$RES.tar.gz" -C "$(dirname "$RES")" "$(basename "$RES")"
echo "results: $RES.tar.gz ($FAILED step(s) failed)"
[ "$FAILED" = 0 ]
