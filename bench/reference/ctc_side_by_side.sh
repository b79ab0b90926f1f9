#!/bin/sh
# Side-by-side CPU timing of CTC loss forward+backward with log-softmax at T=200, B=16, V=29, L=50:
# PyTorch (Debian python3-torch, 2 threads) and lmu.speech.ctc.CtcLoss (2 threads: the caller plus
# one fork-join worker), several repetitions each, medians and their ratio.
# Usage (repository root): sh bench/reference/ctc_side_by_side.sh [reps] [iters]
set -e
cd "$(dirname "$0")/../.."
REPS=${1:-7}
ITERS=${2:-50}
[ -d target/classes/lmu/speech/ctc ] || mvn -o -q -B -Dkernels.skip compile
TORCH=$(/usr/bin/python3 bench/reference/ctc_timing.py 2 "$REPS" "$ITERS" | tee /dev/stderr | awk '/median/ {print $(NF-1)}')
OURS=$(java -Djava.util.concurrent.ForkJoinPool.common.parallelism=1 -cp target/classes \
    bench/reference/CtcLossTiming.java 2 "$REPS" "$ITERS" | tee /dev/stderr | awk '/median/ {print $(NF-3)}')
echo "median ms per forward+backward: torch $TORCH, lmu $OURS, speed-up $(echo "$TORCH $OURS" | awk '{printf "%.2f", $1 / $2}')x"
