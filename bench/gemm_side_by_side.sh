#!/usr/bin/env bash
# PyTorch (Debian python3-torch) against lmu-engine's Gemm on float32 row-major C = A·B, same
# machine, same thread count, interleaved: each repetition runs PyTorch then Java, each in a fresh
# process that warms up and then reports the median GFLOP/s of its timed products. The table shows
# the median over repetitions of those medians, and ours/PyTorch.
#
# usage: bench/gemm_side_by_side.sh [-t THREADS] [-r REPETITIONS] [-o OUT.md] [-j] [SHAPE ...]
#   -j also times the pure-Java fallback (-Dlmu.gemm=java), for information
#   SHAPE is m x k x n (A m×k times B k×n), e.g. 3200x384x384 (default: 3200x384x384 2048x2048x2048)
# needs: bench/target/benchmarks.jar (built here if missing), /usr/bin/python3 with torch
set -euo pipefail
cd "$(dirname "$0")/.."

threads=2 reps=5 out="" withJava=0
while getopts "t:r:o:j" opt; do
  case $opt in
    t) threads=$OPTARG ;;
    r) reps=$OPTARG ;;
    o) out=$OPTARG ;;
    j) withJava=1 ;;
    *) echo "usage: $0 [-t THREADS] [-r REPETITIONS] [-o OUT.md] [-j] [SHAPE ...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
shapes=("$@")
[ ${#shapes[@]} -gt 0 ] || shapes=(3200x384x384 2048x2048x2048)

jar=bench/target/benchmarks.jar
if [ ! -f "$jar" ]; then
  echo "building $jar ..." >&2
  mvn -q -B -Dkernels.skip install -DskipTests
  (cd bench && mvn -q -B package)
fi
py=/usr/bin/python3
"$py" -c "import torch" 2>/dev/null || { echo "$py cannot import torch (Debian package python3-torch)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for ((r = 1; r <= reps; r++)); do
  echo "repetition $r/$reps" >&2
  OMP_NUM_THREADS=$threads "$py" bench/reference/gemm_torch.py --threads "$threads" "${shapes[@]}" >> "$tmp/torch"
  java -Xms2g -Xmx2g -Dlmu.threads="$threads" -cp "$jar" lmu.bench.GemmSideBySide "${shapes[@]}" >> "$tmp/ours"
  if [ "$withJava" = 1 ]; then
    java -Xms2g -Xmx2g -Dlmu.threads="$threads" -Dlmu.gemm=java -cp "$jar" lmu.bench.GemmSideBySide "${shapes[@]}" >> "$tmp/java"
  fi
done

median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
{
  echo "| shape (m x k x n) | PyTorch GFLOP/s | lmu Gemm GFLOP/s | ours / PyTorch | runs (PyTorch; ours) |"
  echo "|---|---|---|---|---|"
  for s in "${shapes[@]}"; do
    t=$(awk -v s="$s" '$1 == s {print $2}' "$tmp/torch" | median)
    o=$(awk -v s="$s" '$1 == s {print $2}' "$tmp/ours" | median)
    tr=$(awk -v s="$s" '$1 == s {printf "%s%s", sep, $2; sep=" "}' "$tmp/torch")
    orr=$(awk -v s="$s" '$1 == s {printf "%s%s", sep, $2; sep=" "}' "$tmp/ours")
    ratio=$(awk -v a="$o" -v b="$t" 'BEGIN {printf "%.0f%%", 100 * a / b}')
    echo "| $s | $t | $o | $ratio | $tr; $orr |"
  done
  if [ "$withJava" = 1 ]; then
    echo
    echo "| shape (m x k x n) | pure-Java fallback GFLOP/s | fallback / PyTorch | runs |"
    echo "|---|---|---|---|"
    for s in "${shapes[@]}"; do
      t=$(awk -v s="$s" '$1 == s {print $2}' "$tmp/torch" | median)
      j=$(awk -v s="$s" '$1 == s {print $2}' "$tmp/java" | median)
      jr=$(awk -v s="$s" '$1 == s {printf "%s%s", sep, $2; sep=" "}' "$tmp/java")
      echo "| $s | $j | $(awk -v a="$j" -v b="$t" 'BEGIN {printf "%.0f%%", 100 * a / b}') | $jr |"
    done
  fi
  echo
  echo "PyTorch: $(awk 'NR == 1 {print $3}' "$tmp/torch" | tr _ ' ');  ours: $(awk 'NR == 1 {print $3}' "$tmp/ours" | tr _ ' ')"
  echo "threads: $threads, repetitions: $reps (interleaved, one fresh process each), OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
  echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; load average before the last run: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "${out:-/dev/null}"
