#!/bin/bash
# Data-parallel scaling efficiency on one multi-GPU machine: a short `train` run on 1, 2, 4, ...
# GPUs with the same batch per GPU (weak scaling), throughput per GPU relative to one GPU.
# Writes a Markdown table to bench/results/scaling-<gpu>-<yyyymmdd>.md (override with --out).
#
#   bench/gpu/scaling.sh                              # 1, 2, 4, 8 ... up to every visible GPU
#   bench/gpu/scaling.sh --gpus "1 2 4" --per-gpu-batch 32 --steps 80
#   bench/gpu/scaling.sh --device cpu --gpus "1 2"    # CPU ranks (train --ranks N): checks the plumbing anywhere
#
# Each run: CUDA_VISIBLE_DEVICES=0..G-1 java -jar lmu-engine.jar train --device cuda --ranks G --batch-size B*G
# --set train.max_steps=STEPS --set train.log_every=1 (plus TRAIN_ARGS), built-in data (--data), no validation:
# one JVM, one thread, NCCL communicator and rank per GPU, gradients all-reduced on the GPUs.
# Throughput comes from the run's metrics.jsonl (one record per step after --warmup): rank 0's
# feature frames per second, i.e. one GPU's share of the global batch, so partial batches at the end
# of an epoch count what they hold. Efficiency(G) = (frames/s per GPU at G) / (frames/s at 1 GPU).
# A run that fails or times out gets its exit code in the table and the tail of its log below it.
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

GPUS=""
PER_GPU_BATCH=16
STEPS=60
WARMUP=10
CONFIG=""
DEVICE=cuda
OUT=""
RUN_TIMEOUT="${RUN_TIMEOUT:-1200}"   # seconds per run
TRAIN_ARGS="${TRAIN_ARGS:-}"         # more train flags, e.g. "--mixed-precision bf16"
LMU_JAVA_OPTS="${LMU_JAVA_OPTS:-}"   # JVM flags, e.g. "-Xmx16g"
DATA=builtin

usage() {
    cat <<EOF
usage: $0 [--gpus "1 2 4 8"] [--per-gpu-batch 16] [--steps 60] [--warmup 10] [--config FILE]
          [--data builtin|MANIFEST] [--device cuda|cpu] [--out FILE]
environment: LMU_JAVA (java; a bundle's runtime/bin/java is found by itself), LMU_JAVA_OPTS,
             LMU_JAR (target/lmu-engine.jar or ./lmu-engine.jar), TRAIN_ARGS, RUN_TIMEOUT (1200 s per run)
EOF
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --gpus) GPUS="$2"; shift 2 ;;
        --per-gpu-batch) PER_GPU_BATCH="$2"; shift 2 ;;
        --steps) STEPS="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --config) CONFIG="$2"; shift 2 ;;
        --data) DATA="$2"; shift 2 ;;
        --device) DEVICE="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "error: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
done

if (( WARMUP + 5 > STEPS )); then
    echo "error: --steps ($STEPS) must exceed --warmup ($WARMUP) by at least 5 timed steps" >&2
    exit 2
fi

# java and the jar: explicit, else a bundle next to this script, else the repository build
if [[ -n "${LMU_JAVA:-}" ]]; then JAVA="$LMU_JAVA"
elif [[ -x "$here/runtime/bin/java" ]]; then JAVA="$here/runtime/bin/java"
else JAVA=java; fi
if [[ -n "${LMU_JAR:-}" ]]; then JAR="$LMU_JAR"
elif [[ -f "$here/lmu-engine.jar" ]]; then JAR="$here/lmu-engine.jar"
else JAR="$root/target/lmu-engine.jar"; fi
if [[ ! -f "$JAR" ]]; then
    echo "error: $JAR not found (mvn -B package -DskipTests, or set LMU_JAR)" >&2
    exit 2
fi

if [[ "$DEVICE" == cuda ]]; then
    if ! command -v nvidia-smi > /dev/null; then
        echo "error: nvidia-smi not found: no NVIDIA driver on this machine (use --device cpu to check the script)" >&2
        exit 2
    fi
    visible=$(nvidia-smi -L | grep -c '^GPU ')
    gpu_name=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
    driver=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1)
else
    visible=$(nproc)
    gpu_name="cpu"
    driver="-"
fi
if [[ -z "$GPUS" ]]; then
    GPUS=""
    for ((g = 1; g <= visible; g *= 2)); do GPUS="$GPUS $g"; done
    if (( visible > 1 && (visible & (visible - 1)) != 0 )); then GPUS="$GPUS $visible"; fi
fi
for g in $GPUS; do
    if [[ "$DEVICE" == cuda ]] && (( g > visible )); then
        echo "error: --gpus asks for $g GPUs, this machine shows $visible" >&2
        exit 2
    fi
done
case " $GPUS " in
    *" 1 "*) ;;
    *) echo "error: --gpus must include 1 (the reference for the efficiency)" >&2; exit 2 ;;
esac

slug=$(echo "$gpu_name" | tr '[:upper:]' '[:lower:]' | tr -cs 'a-z0-9' '-' | sed 's/-$//')
[[ -z "$OUT" ]] && OUT="$root/bench/results/scaling-${slug}-$(date -u +%Y%m%d).md"
mkdir -p "$(dirname "$OUT")"
work=$(mktemp -d "${TMPDIR:-/tmp}/lmu-scaling.XXXXXX")
echo "scaling: GPUs {${GPUS# }}, batch $PER_GPU_BATCH per GPU, $STEPS steps ($WARMUP warm-up), runs in $work, table $OUT"

# one run's metrics.jsonl (a record per step): "steps seconds frames_per_s" over the steps after
# warm-up; frames/s is rank 0's (its slice of each global batch: the throughput of one GPU),
# weighted by each step's duration
measure() {
    awk -v warm="$WARMUP" '
        /"kind":"train"/ {
            if (match($0, /"step":[0-9]+/)) step = substr($0, RSTART + 7, RLENGTH - 7) + 0; else next
            if (match($0, /"time_s":[0-9.eE+-]+/)) t = substr($0, RSTART + 9, RLENGTH - 9) + 0; else next
            fps = 0
            if (match($0, /"frames_per_s":[0-9.eE+-]+/)) fps = substr($0, RSTART + 15, RLENGTH - 15) + 0
            if (step > warm && have) { n++; dt = t - tprev; secs += dt; frames += fps * dt }
            tprev = t; have = 1
        }
        END { if (n > 0 && secs > 0) printf "%d %.6f %.3f\n", n, secs, frames / secs }' "$1"
}

declare -A RC STEPS_PER_S FPS RANKS
base=""
for g in $GPUS; do
    dir="$work/g$g"
    mkdir -p "$dir"
    batch=$((PER_GPU_BATCH * g))
    # shellcheck disable=SC2206 # LMU_JAVA_OPTS is a list of flags
    cmd=("$JAVA" $LMU_JAVA_OPTS -jar "$JAR" train --device "$DEVICE" --data "$DATA" --valid-data "" --batch-size "$batch"
        --output-dir "$dir" --set "train.max_steps=$STEPS" --set train.log_every=1 --set train.epochs=1000
        --set train.patience=0)
    [[ -n "$CONFIG" ]] && cmd+=(--config "$CONFIG")
    cmd+=(--ranks "$g") # one rank per GPU (CPU: threads)
    # shellcheck disable=SC2206
    [[ -n "$TRAIN_ARGS" ]] && cmd+=($TRAIN_ARGS)
    echo "--- $g GPU(s): ${cmd[*]}"
    if [[ "$DEVICE" == cuda ]]; then
        CUDA_VISIBLE_DEVICES=$(seq -s, 0 $((g - 1))) timeout "$RUN_TIMEOUT" "${cmd[@]}" > "$dir/train.out" 2>&1
    else
        timeout "$RUN_TIMEOUT" "${cmd[@]}" > "$dir/train.out" 2>&1
    fi
    RC[$g]=$?
    # the ranks the engine really ran ("data parallel: N ranks, ..."; absent: one replica)
    RANKS[$g]=$(grep -oE 'data parallel: [0-9]+ ranks' "$dir/train.out" | head -1 | grep -oE '[0-9]+' || true)
    RANKS[$g]=${RANKS[$g]:-1}
    m=""
    [[ -f "$dir/metrics.jsonl" ]] && m=$(measure "$dir/metrics.jsonl")
    if [[ "${RANKS[$g]}" != "$g" ]]; then
        echo "    exit ${RC[$g]}, but the engine ran ${RANKS[$g]} rank(s), not $g: no data-parallel timing (see $dir/train.out)"
    elif [[ -n "$m" ]]; then
        read -r n secs fps <<< "$m"
        STEPS_PER_S[$g]=$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.6f", n / s }')
        FPS[$g]=$fps
        [[ "$g" == 1 ]] && base=$fps
        echo "    exit ${RC[$g]}: ${STEPS_PER_S[$g]} steps/s, $fps frames/s per GPU over $n timed steps"
    else
        echo "    exit ${RC[$g]}, no timed steps in $dir/metrics.jsonl (see $dir/train.out)"
    fi
done

{
    echo "# Data-parallel scaling: $gpu_name"
    echo
    echo "$(date -u +%FT%TZ), driver $driver, $(basename "$JAR"), device $DEVICE; batch $PER_GPU_BATCH per GPU (global batch"
    echo "grows with the GPUs), $STEPS steps of which the first $WARMUP are warm-up; data $DATA, no validation."
    echo "Command: \`bench/gpu/scaling.sh --gpus \"${GPUS# }\" --per-gpu-batch $PER_GPU_BATCH --steps $STEPS --warmup $WARMUP"\
"${CONFIG:+ --config $CONFIG} --data $DATA --device $DEVICE\`${TRAIN_ARGS:+ with TRAIN_ARGS=\"$TRAIN_ARGS\"}."
    echo
    echo "| GPUs | ranks run | global batch | steps/s | frames/s per GPU | frames/s, all GPUs | efficiency | exit |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
    for g in $GPUS; do
        batch=$((PER_GPU_BATCH * g))
        if [[ -n "${STEPS_PER_S[$g]:-}" ]]; then
            awk -v g="$g" -v b="$batch" -v sps="${STEPS_PER_S[$g]}" -v fps="${FPS[$g]}" -v base="$base" -v rc="${RC[$g]}" 'BEGIN {
                eff = base > 0 ? sprintf("%.1f%%", 100 * fps / base) : "n/a"
                printf "| %d | %d | %d | %.3f | %.0f | %.0f | %s | %d |\n", g, g, b, sps, fps, fps * g, eff, rc }'
        else
            echo "| $g | ${RANKS[$g]} | $batch | - | - | - | - | ${RC[$g]} |"
        fi
    done
    echo
    echo "Frames/s per GPU: rank 0's slice of every global batch (10 ms feature frames) per second, over the timed"
    echo "steps; all GPUs: that times the GPUs. Efficiency = frames/s per GPU relative to 1 GPU. Exit 124: the run"
    echo "passed RUN_TIMEOUT (then the steps it finished are still timed). \"ranks run\" is what the engine reported"
    echo "(\"data parallel: N ranks\"); a run that did not use one rank per GPU (which would be a bug) is not timed."
    for g in $GPUS; do
        if [[ -z "${STEPS_PER_S[$g]:-}" ]]; then
            echo
            echo "$g GPU(s) gave no timing; last lines of its log:"
            echo
            echo '```'
            tail -n 15 "$work/g$g/train.out" 2> /dev/null
            echo '```'
        fi
    done
} > "$OUT"
echo "wrote $OUT"
cat "$OUT"
