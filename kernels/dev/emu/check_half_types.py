#!/usr/bin/python3
"""The emulator's 16-bit types (cuda_fp16.h, cuda_bf16.h) against numpy's float16 and torch's bfloat16:
every fp16 bit pattern widened, and float32 values (random bit patterns, every fp16 value, the midpoints
between neighbours, the subnormal and overflow boundaries) rounded to fp16 and bf16, bit for bit.
Development only:  /usr/bin/python3 kernels/dev/emu/check_half_types.py
"""
import ctypes
import os
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.environ.get("OUT", "/tmp/lmu-emu")
SHIM = r"""
#include "cuda_fp16.h"
#include "cuda_bf16.h"
extern "C" void h2f_all(const unsigned short* a, float* o, int n) { for (int i = 0; i < n; i++) o[i] = __half2float(__half{a[i]}); }
extern "C" void f2h_all(const float* a, unsigned short* o, int n) { for (int i = 0; i < n; i++) o[i] = __float2half_rn(a[i]).x; }
extern "C" void f2b_all(const float* a, unsigned short* o, int n) { for (int i = 0; i < n; i++) o[i] = __float2bfloat16_rn(a[i]).x; }
"""

os.makedirs(OUT, exist_ok=True)
with open(f"{OUT}/half_types.cpp", "w") as fh:
    fh.write(SHIM)
subprocess.run(["g++", "-O1", "-shared", "-fPIC", "-I", HERE, "-o", f"{OUT}/libhalf_types.so", f"{OUT}/half_types.cpp"],
               check=True)
lib = ctypes.CDLL(f"{OUT}/libhalf_types.so")
ptr = lambda a: a.ctypes.data_as(ctypes.c_void_p)
failures = 0

every = np.arange(65536, dtype=np.uint16)
wide = np.zeros(65536, np.float32)
lib.h2f_all(ptr(every), ptr(wide), 65536)
want = every.view(np.float16).astype(np.float32)
bad = ~((wide.view(np.uint32) == want.view(np.uint32)) | (np.isnan(wide) & np.isnan(want)))
print(f"fp16 -> float32, all 65536 patterns: {bad.sum()} differ")
failures += bad.sum()

rng = np.random.default_rng(0)
values = rng.integers(0, 2**32, size=2_000_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
halves = every.view(np.float16).astype(np.float64)
with np.errstate(invalid="ignore", over="ignore"):
    mids = ((halves[:-1] + halves[1:]) / 2).astype(np.float32)
    f = np.concatenate([values, want, mids, -mids, np.float32([65504, 65519.996, 65520, 65536, 2.98e-8, 2.99e-8, 6.1e-5])])
finite = ~np.isnan(f)
h = np.zeros(f.size, np.uint16)
lib.f2h_all(ptr(f), ptr(h), f.size)
with np.errstate(over="ignore"):
    ref = f.astype(np.float16).view(np.uint16)
n = (h[finite] != ref[finite]).sum() + (~np.isnan(h[~finite].view(np.float16))).sum()
print(f"float32 -> fp16, {f.size} values: {n} differ")
failures += n
b = np.zeros(f.size, np.uint16)
lib.f2b_all(ptr(f), ptr(b), f.size)
ref = torch.tensor(f).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
n = (b[finite] != ref[finite]).sum() + (((b[~finite] & 0x7F80) != 0x7F80) | ((b[~finite] & 0x7F) == 0)).sum()
print(f"float32 -> bf16, {f.size} values: {n} differ")
failures += n
print("16-bit types match" if failures == 0 else f"{failures} mismatches")
sys.exit(1 if failures else 0)
