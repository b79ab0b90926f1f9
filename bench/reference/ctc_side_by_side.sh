#!/bin/sh
# Side-by-side CPU timing of CTC loss forward+backward with log-softmax at T=200, B=16, V=29, L=50:
# PyTorch (Debian python3-torch, 2 threads) and lmu.speech.ctc.CtcLoss (2 threads: the caller plus
# one fork-join worker). ROUNDS rounds alternate the two programs (so both see the same machine
# load); each round times REPS repetitions of ITERS iterations. Reported: per program the median of
# all repetitions, wall-clock and process CPU time per iteration, and the ratios.
# Usage (repository root): sh bench/reference/ctc_side_by_side.sh [rounds] [reps] [iters]
set -e
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3}
REPS=${2:-5}
ITERS=${3:-50}
[ -d target/classes/lmu/speech/ctc ] || mvn -o -q -B -Dkernels.skip compile
LOG=$(mktemp)
i=0
while [ "$i" -lt "$ROUNDS" ]; do
    /usr/bin/python3 bench/reference/ctc_timing.py 2 "$REPS" "$ITERS" | tee -a "$LOG"
    java -Djava.util.concurrent.ForkJoinPool.common.parallelism=1 -cp target/classes \
        bench/reference/CtcLossTiming.java 2 "$REPS" "$ITERS" | tee -a "$LOG"
    i=$((i + 1))
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
awk '
  function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                                     return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  $2 == "rep" && $1 == "torch" { tw[++nt] = $4; tc[nt] = $7 }
  $2 == "rep" && $1 == "lmu"   { lw[++nl] = $4; lc[nl] = $7 }
  END {
    a = median(tw, nt); b = median(lw, nl); c = median(tc, nt); d = median(lc, nl)
    printf "median wall ms per forward+backward: torch %.3f, lmu %.3f, speed-up %.2fx\n", a, b, a / b
    printf "median process CPU ms per iteration: torch %.3f, lmu %.3f, ratio %.2fx\n", c, d, c / d
  }' "$LOG"
rm -f "$LOG"
