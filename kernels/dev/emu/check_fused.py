#!/usr/bin/python3
"""Runs the CPU emulation of kernels/bias_activation.cu and kernels/residual_layernorm.cu against
float64 references written with PyTorch autograd, with the launch geometry and argument order of
lmu.backend.cuda.kernels.CudaFusedKernels (a device of 2 SMs). Development only:

    kernels/dev/emu/build.sh "bias_activation residual_layernorm" && /usr/bin/python3 kernels/dev/emu/check_fused.py

The real parity check runs on a GPU against the engine's CPU reference: FusedKernelChecks.
"""
import math
import sys

import numpy as np
import torch

from check_kernels import compare, f32, failures, i32, launch, nan, ptr

SMS = 2
BLOCK = 256
ACTS = {"identity": 0, "relu": 1, "gelu": 2, "tanh": 3}
rng = np.random.default_rng(11)


def rows_per_block(rows):
    return max(1, (rows + 2 * SMS - 1) // (2 * SMS))


def row_block_threads(cols):
    return 32 if cols <= 64 else min(1024, 32 * ((cols + 127) // 128))


def randn(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def act_ref(name, z):
    if name == "relu":
        return torch.relu(z)
    if name == "gelu":
        return 0.5 * z * (1 + torch.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z ** 3)))
    if name == "tanh":
        return torch.tanh(z)
    return z


def bias_case(act, R, C, with_bias):
    x, dy = randn(R, C, scale=1.5), randn(R, C)
    b = randn(C, scale=0.5) if with_bias else None
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True) if with_bias else None
    ty = act_ref(act, tx + tb if with_bias else tx)
    ty.backward(torch.tensor(dy, dtype=torch.float64))
    n = R * C
    y = nan(R, C)
    blocks = min(-(-n // BLOCK), 32 * SMS)
    launch("bias_activation", "bias_activation_forward_kernel", (blocks,), BLOCK, 0,
           ptr(y), ptr(x), ptr(b), i32(R), i32(C), i32(ACTS[act]))
    compare(f"{act} y", y, ty.detach().numpy(), 1)
    rpb = rows_per_block(R)
    parts = -(-R // rpb)
    threads = min(BLOCK, 32 * ((C + 31) // 32))
    dx, partial = nan(R, C), nan(parts, C)
    launch("bias_activation", "bias_activation_backward_kernel", (parts, -(-C // threads)), threads, 0,
           ptr(None if act == "identity" else dx), ptr(partial), ptr(dy), ptr(x), ptr(b), ptr(y), i32(R), i32(C),
           i32(ACTS[act]), i32(rpb))
    if act != "identity":
        compare(f"{act} dx", dx, tx.grad.numpy(), 1)
    if with_bias:
        db = nan(C)
        launch("bias_activation", "bias_activation_dbias_kernel", (-(-C // BLOCK),), BLOCK, 0,
               ptr(db), ptr(partial), i32(parts), i32(C))
        compare(f"{act} dbias", db, tb.grad.numpy(), R)


def norm_case(R, C, affine, with_ds, eps=1e-5):
    x, r, dy, ds = randn(R, C), randn(R, C), randn(R, C), randn(R, C)
    w = (1 + randn(C, scale=0.3)) if affine else None
    b = randn(C, scale=0.3) if affine else None
    t = [torch.tensor(a, dtype=torch.float64, requires_grad=True) if a is not None else None for a in (x, r, w, b)]
    s_ref = t[0] + t[1]
    y_ref = torch.nn.functional.layer_norm(s_ref, (C,), t[2], t[3], eps)
    loss = (y_ref * torch.tensor(dy, dtype=torch.float64)).sum()
    if with_ds:
        loss = loss + (s_ref * torch.tensor(ds, dtype=torch.float64)).sum()
    loss.backward()
    s, y, mean, rstd = nan(R, C), nan(R, C), nan(R), nan(R)
    threads = row_block_threads(C)
    launch("residual_layernorm", "residual_layernorm_forward_kernel", (R,), threads, 0,
           ptr(s), ptr(y), ptr(mean), ptr(rstd), ptr(x), ptr(r), ptr(w), ptr(b), i32(R), i32(C), f32(eps))
    compare("s", s, s_ref.detach().numpy(), 1)
    compare("y", y, y_ref.detach().numpy(), C)
    rpb = rows_per_block(R)
    parts = -(-R // rpb)
    dx, pw, pb = nan(R, C), nan(parts, C), nan(parts, C)
    launch("residual_layernorm", "residual_layernorm_backward_kernel", (parts,), threads, 8 * C,
           ptr(dx), ptr(pw), ptr(pb), ptr(dy), ptr(ds if with_ds else None), ptr(s), ptr(w), ptr(mean), ptr(rstd),
           i32(R), i32(C), i32(rpb))
    compare("dx", dx, t[0].grad.numpy(), C)
    compare("dr = dx", dx, t[1].grad.numpy(), C)
    dw, db = nan(C), nan(C)
    launch("residual_layernorm", "residual_layernorm_dparams_kernel", (-(-C // BLOCK),), BLOCK, 0,
           ptr(dw), ptr(db), ptr(pw), ptr(pb), i32(parts), i32(C))
    if affine:
        compare("dw", dw, t[2].grad.numpy(), R)
        compare("db", db, t[3].grad.numpy(), R)
    else:  # the gradients a unit scale and zero shift would get
        shat = (s_ref - s_ref.mean(-1, keepdim=True)) / torch.sqrt(s_ref.var(-1, unbiased=False, keepdim=True) + eps)
        compare("dw (no affine)", dw, (torch.tensor(dy, dtype=torch.float64) * shat).sum(0).detach().numpy(), R)
        compare("db (no affine)", db, dy.astype(np.float64).sum(0), R)


if __name__ == "__main__":
    for R, C in [(1, 1), (13, 7), (9, 300), (5, 33)]:
        for act in ACTS:
            for with_bias in (True, False):
                print(f"bias+{act} R={R} C={C}{'' if with_bias else ' no bias'}")
                bias_case(act, R, C, with_bias)
    for R, C in [(1, 1), (13, 7), (9, 300), (3, 65)]:
        for affine in (True, False):
            for with_ds in (True, False):
                print(f"residual+layernorm R={R} C={C}{'' if affine else ' no affine'}{' with ds' if with_ds else ''}")
                norm_case(R, C, affine, with_ds)
    print("all emulated kernels match" if not failures else f"{len(failures)} comparison(s) failed")
    sys.exit(1 if failures else 0)
