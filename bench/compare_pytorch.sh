#!/usr/bin/env bash
# The engine against PyTorch (Debian python3-torch, eager, float32) on this machine: same shapes,
# same thread count, interleaved (every repetition runs each case on both sides, fresh processes,
# the side that goes first alternating between repetitions), several repetitions. Prints a Markdown
# table of the median seconds per operation on each side and ours/PyTorch (below 1: ours faster).
#
# Cases (defaults; configs/seed.yaml model):
#   step B8 / B16  whole training step, T 400: forward, CTC, backward, clipping, AdamW
#                  ours: lmu.cli.Main bench-step;  PyTorch: reference/step_timing.py step (lmu_torch.py model)
#   lmu layer      one LMU layer of block 1, forward + backward, (8, 400, 384)
#   attention      one attention layer of block 1, forward + backward, (8, 400, 384), 6 heads
#                  ours: reference/LayerTiming.java;  PyTorch: reference/step_timing.py layers
#   CTC            log-softmax + CTC forward + backward, T 200, B 16, V 29, L 50: reference/ctc_side_by_side.sh
#   log-mel        80-bin log-mel of 20 utterances x 4 s at 16 kHz: reference/logmel_side_by_side.sh
#   matmul         float32 3200x384 times 384x384: gemm_side_by_side.sh (GFLOP/s turned into seconds)
#
# usage (repository root): bench/compare_pytorch.sh [-r REPETITIONS] [-t THREADS] [-o OUT.md] [-s STEPS] [-w WARMUP] [CASE ...]
#   CASE: step lmu attention ctc logmel gemm (default all);  -s timed training steps per process (default 3);
#   -w untimed steps first, both engines (default 3: the JVM compiles its hot code during the first steps;
#   a training run takes thousands, so the steady state is what counts)
# needs: /usr/bin/python3 with torch and torchaudio; bench/target/benchmarks.jar for gemm (built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."

reps=3 threads=2 out="" steps=3 warmup=3
while getopts "r:t:o:s:w:" opt; do
  case $opt in
    r) reps=$OPTARG ;;
    t) threads=$OPTARG ;;
    o) out=$OPTARG ;;
    s) steps=$OPTARG ;;
    w) warmup=$OPTARG ;;
    *) echo "usage: $0 [-r REPETITIONS] [-t THREADS] [-o OUT.md] [-s STEPS] [-w WARMUP] [CASE ...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(step lmu ctc logmel gemm)
# lmu and attention come from the same processes
want() { local c; for c in "${cases[@]}"; do [ "$c" = "$1" ] && return 0; done; return 1; }
if want attention && ! want lmu; then cases+=(lmu); fi

py=/usr/bin/python3
"$py" -c "import torch, torchaudio" 2>/dev/null || { echo "$py cannot import torch/torchaudio (Debian python3-torch, python3-torchaudio)" >&2; exit 1; }
mvn -q -o -B -Dkernels.skip test-compile >&2
mvn -q -o -B dependency:build-classpath -Dmdep.outputFile=target/bench-classpath.txt >/dev/null
cp="target/classes:target/test-classes:$(cat target/bench-classpath.txt)"
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads MKL_NUM_THREADS=$threads
java=(java -Xms2g -Xmx6g -Dlmu.threads="$threads" -Djava.util.concurrent.ForkJoinPool.common.parallelism=$((threads > 1 ? threads - 1 : 1)) -cp "$cp")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
res=$tmp/results           # lines: case side seconds
loads=$tmp/loads

torch_step() { "$py" bench/reference/step_timing.py --threads "$threads" step --batch "$1" --frames 400 --warmup "$warmup" --iters "$steps" \
                 | awk -v c="step_b$1" '{print c, "torch", $2}' >> "$res"; }
ours_step() { "${java[@]}" lmu.cli.Main bench-step --config configs/seed.yaml --batch-size "$1" --frames 400 --warmup "$warmup" \
                 --steps "$steps" --threads "$threads" | awk -v c="step_b$1" '/median/ {for (i = 1; i <= NF; i++) if ($i == "median") print c, "ours", $(i + 1)}' >> "$res"; }
torch_layers() { "$py" bench/reference/step_timing.py --threads "$threads" layers --batch 8 --frames 400 --warmup "$warmup" --iters 5 \
                 | awk '{split($1, a, "_"); print a[1], "torch", $2}' >> "$res"; }
ours_layers() { "${java[@]}" bench/reference/LayerTiming.java configs/seed.yaml 8 400 "$warmup" 5 \
                 | awk '{split($1, a, "_"); print a[1], "ours", $2}' >> "$res"; }
# the existing side-by-side scripts run both sides themselves (one round each call)
ctc_pair() { sh bench/reference/ctc_side_by_side.sh 1 3 20 | awk '/median wall ms/ {gsub(",", ""); print "ctc torch", $7 / 1000; print "ctc ours", $9 / 1000}' >> "$res"; }
logmel_pair() { sh bench/reference/logmel_side_by_side.sh "$threads" 20 4 \
                 | awk 'function wall(side) {for (i = 2; i <= NF; i++) if ($(i - 1) == "wall" && $i == "median") print "logmel", side, $(i + 1) / 1000}
                        /^lmu LogMel/ {wall("ours")}  /torchaudio.*\(batched\)/ {wall("torch")}' >> "$res"; }
gemm_pair() { bench/gemm_side_by_side.sh -t "$threads" -r 1 3200x384x384 \
                 | awk -F'|' '$2 ~ /3200x384x384/ {f = 2 * 3200 * 384 * 384; print "gemm torch", f / ($3 * 1e9); print "gemm ours", f / ($4 * 1e9)}' >> "$res"; }

for ((r = 1; r <= reps; r++)); do
  echo "repetition $r/$reps (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  cut -d' ' -f1 /proc/loadavg >> "$loads"
  for c in "${cases[@]}"; do
    case $c in
      step) for b in 8 16; do
              if ((r % 2)); then torch_step $b; ours_step $b; else ours_step $b; torch_step $b; fi
            done ;;
      lmu) if ((r % 2)); then torch_layers; ours_layers; else ours_layers; torch_layers; fi ;;
      attention) ;;
      ctc) ctc_pair ;;
      logmel) logmel_pair ;;
      gemm) gemm_pair ;;
      *) echo "unknown case $c (expected step lmu attention ctc logmel gemm)" >&2; exit 2 ;;
    esac
  done
done
cut -d' ' -f1 /proc/loadavg >> "$loads"

median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "nan"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
runs() { awk -v c="$1" -v s="$2" '$1 == c && $2 == s {printf "%s%.4g", sep, $3; sep = " "}' "$res"; }
row() {  # case label shape target
  local t o
  t=$(awk -v c="$1" '$1 == c && $2 == "torch" {print $3}' "$res" | median)
  o=$(awk -v c="$1" '$1 == c && $2 == "ours" {print $3}' "$res" | median)
  [ "$t" = nan ] && [ "$o" = nan ] && return 0
  awk -v l="$2" -v s="$3" -v t="$t" -v o="$o" -v g="$4" -v rt="$(runs "$1" torch)" -v ro="$(runs "$1" ours)" \
    'BEGIN {printf "| %s | %s | %.4g | %.4g | %.2f | %s | %s; %s |\n", l, s, t, o, o / t, g, rt, ro}'
}
{
  echo "| case | shape | PyTorch s | ours s | ours / PyTorch | target | runs s (PyTorch; ours) |"
  echo "|---|---|---|---|---|---|---|"
  row step_b8 "training step" "seed, B 8, T 400" "<= 0.8"
  row step_b16 "training step" "seed, B 16, T 400" "<= 0.8"
  row lmu "LMU layer fwd+bwd" "(8, 400, 384), order 192" ""
  row attention "attention fwd+bwd" "(8, 400, 384), 6 heads" ""
  row ctc "CTC fwd+bwd" "T 200, B 16, V 29, L 50" "<= 0.5"
  row logmel "log-mel" "20 x 4 s, 16 kHz, 80 bins" "<= 1"
  row gemm "matrix product" "3200x384 · 384x384 f32" "<= 1.25"
  echo
  echo "Medians over $reps interleaved repetitions (fresh processes; training steps: median of $steps timed steps, layers of 5, after $warmup warm-up"
  echo "per process). PyTorch $("$py" -c 'import torch; print(torch.__version__)') eager float32, $threads threads; ours: $(java -version 2>&1 | head -1), lmu.threads=$threads."
  echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; 1-minute load average during the run: $(sort -g "$loads" | head -1) to $(sort -g "$loads" | tail -1)"
  echo "command: bench/compare_pytorch.sh -r $reps -t $threads -s $steps -w $warmup ${cases[*]}; $(date -u '+%Y-%m-%d %H:%M UTC')"
} | tee "${out:-/dev/null}"
