#!/bin/bash
# Shared by the slurm/*.sbatch scripts (sourced, not run): checks, GPU monitoring, and a training
# step that checkpoints and requeues itself when SLURM announces the end (time limit, pre-emption).
# Submit from the repository root: the scripts find this file through $SLURM_SUBMIT_DIR.

set -euo pipefail

if [[ -z "${SLURM_JOB_ID:-}" ]]; then
    echo "error: SLURM_JOB_ID is not set; submit with sbatch (e.g. sbatch slurm/train_1gpu.sbatch)" >&2
    exit 2
fi

LMU_JAVA="${LMU_JAVA:-java}"                      # a bundle's runtime works too: bundle/runtime/bin/java
LMU_JAR="${LMU_JAR:-target/lmu-engine.jar}"       # built by: mvn -B package -DskipTests
LMU_CONFIG="${LMU_CONFIG:-configs/seed.yaml}"     # the experiment
LMU_DEVICE="${LMU_DEVICE:-cuda}"                  # cpu on CPU-only nodes (one rank per node then)
LMU_OUT="${LMU_OUT:-runs/${SLURM_JOB_NAME}_${SLURM_JOB_ID}}"  # same job id after a requeue, so --resume auto finds it
LMU_ARGS="${LMU_ARGS:-}"                          # more train flags, e.g. "--batch-size 64 --set optim.lr=2e-3"
export LMU_DIST_TIMEOUT="${LMU_DIST_TIMEOUT:-600}"  # seconds one collective may wait for the slowest rank
# export NCCL_DEBUG=INFO                          # uncomment to see NCCL's choice of transports

if [[ ! -f "$LMU_JAR" ]]; then
    echo "error: $LMU_JAR not found (run mvn -B package -DskipTests in $(pwd), or set LMU_JAR)" >&2
    exit 2
fi
mkdir -p "$LMU_OUT" logs
echo "job $SLURM_JOB_ID on ${SLURM_JOB_NODELIST:-?}: ${SLURM_NNODES:-1} node(s), restart count ${SLURM_RESTART_COUNT:-0}, output $LMU_OUT"

# One CSV row per GPU every 30 s: utilisation and memory (on the node that runs the batch script).
start_gpu_monitor() {
    local csv="$LMU_OUT/gpu_${SLURM_JOB_ID}_$(hostname -s).csv"
    if command -v nvidia-smi > /dev/null; then
        nvidia-smi --query-gpu=timestamp,index,name,utilization.gpu,utilization.memory,memory.used,memory.total,power.draw \
            --format=csv -l 30 >> "$csv" &
        GPU_MONITOR_PID=$!
        echo "GPU monitor: $csv (pid $GPU_MONITOR_PID)"
    else
        echo "note: nvidia-smi not found; no GPU monitoring"
    fi
}

stop_gpu_monitor() {
    if [[ -n "${GPU_MONITOR_PID:-}" ]]; then kill "$GPU_MONITOR_PID" 2> /dev/null || true; fi
}

# SIGUSR1 arrives (--signal=B:USR1@...) shortly before the time limit: pass it to every task (srun
# forwards signals to its tasks); the engine finishes its step, writes a checkpoint and exits 0;
# then the job goes back to the queue and continues with --resume auto. On pre-emption SLURM sends
# SIGTERM to the tasks itself (same checkpoint) and requeues the job because of --requeue.
on_usr1() {
    echo "$(date -u +%FT%TZ) USR1: checkpointing and requeueing job $SLURM_JOB_ID"
    REQUEUE=1
    if [[ -n "${TRAIN_PID:-}" ]]; then kill -USR1 "$TRAIN_PID" 2> /dev/null || true; fi
}

# Runs "srun <args> java -jar ... train ..." in the background so the trap can act, waits, requeues.
run_training() {
    REQUEUE=0
    trap on_usr1 USR1
    trap stop_gpu_monitor EXIT
    srun "$@" "$LMU_JAVA" -jar "$LMU_JAR" train --config "$LMU_CONFIG" --device "$LMU_DEVICE" \
        --output-dir "$LMU_OUT" --resume auto $LMU_ARGS &
    TRAIN_PID=$!
    local rc=0
    while true; do
        wait "$TRAIN_PID" && rc=0 || rc=$?
        # wait returns early (status > 128) when a trapped signal arrives; keep waiting for srun
        if kill -0 "$TRAIN_PID" 2> /dev/null; then continue; fi
        break
    done
    if [[ "$REQUEUE" == 1 ]]; then
        echo "training step ended with status $rc after USR1; requeueing"
        scontrol requeue "$SLURM_JOB_ID"
        exit 0
    fi
    echo "training ended with status $rc"
    exit "$rc"
}
