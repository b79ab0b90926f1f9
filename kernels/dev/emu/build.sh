#!/usr/bin/env bash
# Builds the CPU emulation of kernels/<op>.cu as $OUT/lib<op>.so (default /tmp/lmu-emu) for
# check_kernels.py: each file with its dynamic shared memory mapped to the emulator's buffer and one
# emu_<kernel> entry point per kernel. Development only; needs g++ with C++17.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
KERNELS="$(cd "$HERE/../.." && pwd)"
OUT="${OUT:-/tmp/lmu-emu}"
mkdir -p "$OUT"
for op in "${@:-ctc_loss lmu_recurrent lmu_conv attention attention_half logmel}"; do
  for o in $op; do
    src="$OUT/$o.cpp"
    sed 's/extern __shared__ float smem\[\];/float* smem = (float*)emu::dyn_smem;/' "$KERNELS/$o.cu" > "$src"
    names="$(tr '\n' ' ' < "$KERNELS/$o.cu" | grep -oE 'extern "C" __global__ void (__launch_bounds__\([A-Z_0-9, ]*\) *)?[a-z_0-9]+\(' | sed -E 's/.* ([a-z_0-9]+)\($/\1/' || true)"
    if [ "$o" = attention ]; then
      for d in 32 64; do names="$names attention_forward_kernel_hd$d attention_backward_dot_kernel_hd$d attention_backward_dq_kernel_hd$d attention_backward_dkdv_kernel_hd$d"; done
      names="$(echo "$names" | tr ' ' '\n' | grep -v '^$' | grep -v '##' | grep hd || true)"
    fi
    if [ "$o" = attention_half ]; then
      names=""
      for d in 32 64; do for f in f16 bf16; do for k in forward backward_dot backward_dq backward_dkdv; do
        names="$names attention_half_${k}_kernel_hd${d}_$f"; done; done; done
    fi
    for n in $names; do echo "EMU_EXPORT($n)" >> "$src"; done
    g++ -std=c++17 -O1 -g -shared -fPIC -Wno-unknown-pragmas -I "$HERE" -I "$KERNELS" -o "$OUT/lib$o.so" "$src"
    echo "built $OUT/lib$o.so ($(echo $names | wc -w) kernels)"
  done
done
