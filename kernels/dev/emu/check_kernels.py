#!/usr/bin/python3
"""Runs the CPU emulation of the model kernels (build.sh) on small awkward sizes against float64
references written with PyTorch autograd / numpy, with the launch geometry and argument order of the
Java launchers in lmu.backend.cuda.kernels. Development only (no GPU needed, slow):

    kernels/dev/emu/build.sh && /usr/bin/python3 kernels/dev/emu/check_kernels.py [ctc|rec|conv|fft|fft-seed|att|atth]...

The real parity check runs on a GPU against the engine's CPU reference: ModelKernelChecks.
"""
import ctypes
import math
import os
import sys

import numpy as np
import torch

LIB = os.environ.get("OUT", "/tmp/lmu-emu")
libs = {}
failures = []
rng = np.random.default_rng(3)


class Arg:
    def __init__(self, kind, value):
        self.kind, self.value = kind, value


def ptr(a):
    return Arg("p", None if a is None else a.ctypes.data)


def i32(v):
    return Arg("i", int(v))


def i64(v):
    return Arg("l", int(v))


def f32(v):
    return Arg("f", float(v))


def f64(v):
    return Arg("d", float(v))


def launch(op, kernel, grid, block, shared, *args):
    lib = libs.setdefault(op, ctypes.CDLL(f"{LIB}/lib{op}.so"))
    holders = []
    for a in args:
        if a.kind == "p":
            holders.append(ctypes.c_void_p(a.value))
        elif a.kind == "i":
            holders.append(ctypes.c_int(a.value))
        elif a.kind == "l":
            holders.append(ctypes.c_longlong(a.value))
        elif a.kind == "d":
            holders.append(ctypes.c_double(a.value))
        else:
            holders.append(ctypes.c_float(a.value))
    params = (ctypes.c_void_p * len(holders))(*[ctypes.cast(ctypes.pointer(h), ctypes.c_void_p) for h in holders])
    g = grid + (1,) * (3 - len(grid))
    fn = getattr(lib, "emu_" + kernel)
    fn(ctypes.c_uint(g[0]), ctypes.c_uint(g[1]), ctypes.c_uint(g[2]), ctypes.c_uint(block), ctypes.c_uint(1),
       ctypes.c_uint(1), ctypes.c_size_t(shared), params)


def nan(*shape):
    return np.full(shape, np.nan, dtype=np.float32)


def compare(name, got, want, n, eps=1e-5):
    """|got - want| <= eps sqrt(n) (1 + |want|), n the longest sum behind a value (ModelKernelChecks' formula;
    eps as lmu.backend.cuda.Tolerance: 1e-5 for fp32, 8 2^-11 for fp16, 4 2^-8 for bf16)."""
    tol = eps * math.sqrt(max(1, n))
    got, want = np.asarray(got, dtype=np.float64).ravel(), np.asarray(want, dtype=np.float64).ravel()
    special = ~np.isfinite(want)
    bad = np.zeros(want.shape, bool)
    bad[special] = ~((np.isnan(want[special]) & np.isnan(got[special])) | (got[special] == want[special]))
    fin = ~special
    err = np.abs(got[fin] - want[fin]) / (1 + np.abs(want[fin]))
    bad[fin] = ~(err <= tol)
    worst = float(np.nanmax(err)) if err.size else 0.0
    if bad.any():
        idx = np.nonzero(bad)[0][:5]
        failures.append(f"{name}: {bad.sum()} of {want.size} differ (max error / bound {worst / tol:.3g}): " +
                        ", ".join(f"[{i}] {got[i]} vs {want[i]}" for i in idx))
        print(f"  FAIL {name}: {failures[-1]}")
    else:
        print(f"  ok   {name} (max error / bound {worst / tol:.3f})")


# ---------------------------------------------------------------- CTC

def ctc_threads(states):
    return min(512, max(64, 32 * ((states + 31) // 32)))


def ctc_case(layout, reduction, zero_inf, B, T, V, scale, seed):
    r = np.random.default_rng(seed)
    lmax = max(1, min(T, max(2, T // 3)))
    in_lens = np.array([T] + [1 + r.integers(T) for _ in range(B - 1)], dtype=np.int32)
    tgt_lens = np.array([min(lmax, max(1, T // 4))] + [r.integers(min(lmax, l) + 1) for l in in_lens[1:]], dtype=np.int32)
    targets = r.integers(1, V, size=(B, lmax)).astype(np.int32)
    if B > 1:
        in_lens[1] = T
        tgt_lens[1] = min(lmax, max(1, T // 3))
        for i in range(0, tgt_lens[1] - 1, 3):
            targets[1, i + 1] = targets[1, i]
    if B > 2:
        tgt_lens[2] = lmax
        targets[2, :] = 1
        in_lens[2] = max(0, min(T, 2 * lmax - 2))
    if B > 3:
        in_lens[3] = 0
        tgt_lens[3] = 0
    if B > 4:
        tgt_lens[4] = 0
    shape = (B, T, V) if layout == "bm" else (T, B, V)
    x = (r.standard_normal(shape) * scale).astype(np.float32)
    grad_out = r.standard_normal(B).astype(np.float32) if reduction == 2 else np.array([0.75], np.float32)
    # reference, float64, per utterance
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    xb = xt if layout == "bm" else xt.transpose(0, 1)  # (B, T, V)
    losses, total = [], 0.0
    want_dx = np.zeros(shape)
    for b in range(B):
        tb, lb = int(in_lens[b]), int(tgt_lens[b])
        rep = int(sum(targets[b, i] == targets[b, i - 1] for i in range(1, lb)))
        if tb < lb + rep:
            losses.append(0.0 if zero_inf else math.inf)
            fill = 0.0 if zero_inf else math.nan
            if layout == "bm":
                want_dx[b, :tb] = fill
            else:
                want_dx[:tb, b] = fill
            continue
        if tb == 0:
            losses.append(0.0)
            continue
        lp = torch.log_softmax(xb[b, :tb], -1)[:, None, :]  # (tb, 1, V)
        loss = torch.nn.functional.ctc_loss(lp, torch.tensor(targets[b:b + 1, :max(lb, 1)].astype(np.int64)),
                                            torch.tensor([tb]), torch.tensor([lb]), blank=0, reduction="sum")
        losses.append(loss.item())
        w = grad_out[b] if reduction == 2 else grad_out[0] / (max(lb, 1) * B if reduction == 0 else 1)
        total = total + loss * float(w)
    if torch.is_tensor(total):
        total.backward()
        g = xt.grad.numpy()
        for b in range(B):
            tb, lb = int(in_lens[b]), int(tgt_lens[b])
            rep = int(sum(targets[b, i] == targets[b, i - 1] for i in range(1, lb)))
            if tb < lb + rep:
                continue
            if layout == "bm":
                want_dx[b] = g[b]
            else:
                want_dx[:, b] = g[:, b]
    s_max = 2 * lmax + 1
    strides = (T * V, V) if layout == "bm" else (V, B * V)
    losses_d, logz, la, dx, red = nan(B), nan(B, T), nan(B, T, s_max), nan(*shape), nan(1)
    th = ctc_threads(s_max)
    launch("ctc_loss", "ctc_loss_forward_kernel", (B,), th, 12 * s_max, ptr(losses_d), ptr(logz), ptr(la), ptr(x),
           i64(strides[0]), i64(strides[1]), ptr(in_lens), ptr(targets), i32(lmax), ptr(tgt_lens), i32(T), i32(V),
           i32(s_max), i32(zero_inf))
    launch("ctc_loss", "ctc_loss_backward_kernel", (B,), th, 20 * s_max + 4 * V, ptr(dx), ptr(x), i64(strides[0]),
           i64(strides[1]), ptr(losses_d), ptr(logz), ptr(la), ptr(in_lens), ptr(targets), i32(lmax), ptr(tgt_lens),
           i32(B), i32(T), i32(V), i32(s_max), ptr(grad_out), i32(reduction), i32(zero_inf))
    compare("losses", losses_d, losses, T)
    compare("dlogits", dx, want_dx, T)
    if reduction != 2:
        launch("ctc_loss", "ctc_loss_reduce_kernel", (1,), 32, 0, ptr(red), ptr(losses_d), ptr(tgt_lens), i32(B),
               i32(reduction))
        want = sum(l / max(int(tl), 1) for l, tl in zip(losses, tgt_lens)) / B if reduction == 0 else sum(losses)
        compare("reduced", red, [want], T * B)


def check_ctc():
    for layout in ("bm", "tm"):
        for red in (0, 1, 2):
            print(f"ctc {layout} reduction {red}")
            ctc_case(layout, red, 0, 6, 23, 7, 3, 10 + red)
    print("ctc zero infinity")
    ctc_case("bm", 0, 1, 6, 13, 7, 3, 20)
    print("ctc T=1 V=2")
    ctc_case("bm", 1, 0, 3, 1, 2, 1, 21)
    print("ctc large logits")
    ctc_case("tm", 0, 0, 4, 40, 29, 40, 22)
    print("ctc S > 512 (states loop)")
    ctc_case("bm", 0, 0, 2, 800, 5, 2, 23)


# ---------------------------------------------------------------- LMU recurrence

def lmu_threads(h):
    return min(1024, max(256, 32 * (((h + 3) // 4 + 31) // 32)))


def rec_case(B, T, H, K, d, lengths, eh_on, em_on, wh_on, act, amat_shared, seed):
    r = np.random.default_rng(seed)
    W = K * d
    f = lambda *s: (r.standard_normal(s) * 0.3).astype(np.float32)
    ux, ax, a, bbar, wm = f(B, T, K), f(B, T, H), f(d, d) * 0.5, f(d), f(W, H)
    eh = f(H, K) if eh_on else None
    em = f(W, K) if em_on else None
    wh = f(H, H) if wh_on else None
    dh = f(B, T, H)
    lengths = np.array(lengths, dtype=np.int32)
    # reference in float64 with autograd: dz = d/d(ax), du = d/d(ux)
    t64 = lambda v: None if v is None else torch.tensor(v, dtype=torch.float64)
    tux, tax = t64(ux).requires_grad_(True), t64(ax).requires_grad_(True)
    ta, tb, twm, teh, tem, twh = t64(a), t64(bbar), t64(wm), t64(eh), t64(em), t64(wh)
    fact = {0: torch.tanh, 1: torch.relu, 2: lambda z: z}[act]
    hs = torch.zeros(B, T, H, dtype=torch.float64)
    ms = torch.zeros(B, T, W, dtype=torch.float64)
    hout, mout = [], []
    for b in range(B):
        hp, mp = torch.zeros(H, dtype=torch.float64), torch.zeros(W, dtype=torch.float64)
        hrow, mrow = [], []
        for t in range(T):
            if t < lengths[b]:
                u = tux[b, t].clone()
                if teh is not None:
                    u = u + hp @ teh
                if tem is not None:
                    u = u + mp @ tem
                m = (mp.view(K, d) @ ta.T + u[:, None] * tb[None, :]).reshape(W)
                z = tax[b, t] + m @ twm
                if twh is not None:
                    z = z + hp @ twh
                h = fact(z)
                hp, mp = h, m
                hrow.append(h)
                mrow.append(m)
            else:
                hrow.append(torch.zeros(H, dtype=torch.float64))
                mrow.append(torch.zeros(W, dtype=torch.float64))
        hout.append(torch.stack(hrow))
        mout.append(torch.stack(mrow))
    hs, ms = torch.stack(hout), torch.stack(mout)
    (hs * t64(dh)).sum().backward()
    shared_f = 4 * (2 * W + H + K) + (4 * d * d if amat_shared else 0)
    shared_b = 4 * (2 * W + 2 * H + K) + (4 * d * d if amat_shared else 0)
    h_d, m_d, dz, du = nan(B, T, H), nan(B, T, W), nan(B, T, H), nan(B, T, K)
    at = np.ascontiguousarray(a.T)
    launch("lmu_recurrent", "lmu_recurrent_forward_kernel", (B,), lmu_threads(H), shared_f, ptr(h_d), ptr(m_d), ptr(ux),
           ptr(ax), ptr(at), ptr(bbar), ptr(eh), ptr(em), ptr(wh), ptr(wm), ptr(lengths), i32(T), i32(H), i32(K), i32(d),
           i32(act), i32(amat_shared))
    launch("lmu_recurrent", "lmu_recurrent_backward_kernel", (B,), lmu_threads(H), shared_b, ptr(dz), ptr(du), ptr(dh),
           ptr(h_d), ptr(a), ptr(bbar), ptr(eh), ptr(em), ptr(wh), ptr(wm), ptr(lengths), i32(T), i32(H), i32(K), i32(d),
           i32(act), i32(amat_shared))
    compare("h", h_d, hs.detach().numpy(), T * (W + H))
    compare("m", m_d, ms.detach().numpy(), T * (W + H))
    compare("dz", dz, tax.grad.numpy(), T * (W + H))
    compare("du", du, tux.grad.numpy(), T * (W + H))


def check_rec():
    print("lmu recurrence, every feedback, tanh, Abar shared")
    rec_case(3, 7, 13, 2, 5, [7, 0, 4], True, True, True, 0, 1, 30)
    print("lmu recurrence, no feedback, relu, Abar global")
    rec_case(2, 6, 37, 1, 33, [6, 3], False, False, False, 1, 0, 31)
    print("lmu recurrence, H > blockDim (4 per thread), identity")
    rec_case(1, 3, 300, 1, 4, [3], True, False, True, 2, 1, 32)


# ---------------------------------------------------------------- convolution

def conv_case(B, T, K, d, lengths, seed):
    r = np.random.default_rng(seed)
    u = r.standard_normal((B, T, K)).astype(np.float32)
    dm = r.standard_normal((B, T, K * d)).astype(np.float32)
    h = (r.standard_normal((T, d)) * 0.3).astype(np.float32)
    lengths = np.array(lengths, dtype=np.int32)
    want_m = np.zeros((B, T, K, d))
    want_du = np.zeros((B, T, K))
    for b in range(B):
        n = lengths[b]
        for k in range(K):
            for t in range(n):
                want_m[b, t, k] = sum(h[lag].astype(np.float64) * u[b, t - lag, k] for lag in range(t + 1))
            g = dm[b, :, k * d:(k + 1) * d].astype(np.float64)
            for s in range(n):
                want_du[b, s, k] = sum(float(h[lag].astype(np.float64) @ g[s + lag]) for lag in range(n - s))
    m, du = nan(B, T, K * d), nan(B, T, K)
    launch("lmu_conv", "lmu_conv_forward_kernel", ((d + 63) // 64, (T + 63) // 64, B * K), 256, 0, ptr(m), ptr(u), ptr(h),
           ptr(lengths), i32(T), i32(K), i32(d), i32(T))
    launch("lmu_conv", "lmu_conv_backward_kernel", ((T + 63) // 64, B * K), 256, 0, ptr(du), ptr(dm), ptr(h), ptr(lengths),
           i32(T), i32(K), i32(d), i32(T))
    compare("m", m, want_m.reshape(B, T, K * d), T)
    compare("du", du, want_du, T * d)


FFT_BUF = 8192
FFT_PAIRS_PER_SLICE = 16


def fft_logn(T):
    """log2 N of the FFT form: N >= 2T - 1, at least 16 (CudaLegendreConvolution / ModelKernelGeometry)."""
    return max(4, (2 * T - 2).bit_length())


def legendre_response(d, theta, rows):
    """H[lag] = Abar^lag Bbar of the LMU's Legendre system, zero-order hold with dt = 1 (float64)."""
    import scipy.linalg
    i = np.arange(d)[:, None]
    j = np.arange(d)[None, :]
    a = (2 * i + 1) * np.where(i < j, -1.0, (-1.0) ** (i - j + 1))
    b = (2 * np.arange(d) + 1) * (-1.0) ** np.arange(d)
    m = np.zeros((d + 1, d + 1))
    m[:d, :d] = a / theta
    m[:d, d] = b / theta
    e = scipy.linalg.expm(m)
    abar, bbar = e[:d, :d], e[:d, d]
    h = np.empty((rows, d))
    x = bbar.copy()
    for t in range(rows):
        h[t] = x
        x = abar @ x
    return h


def conv_fft_case(B, T, K, d, lengths, h_len, seed, theta=None):
    r = np.random.default_rng(seed)
    u = r.standard_normal((B, T, K)).astype(np.float32)
    dm = r.standard_normal((B, T, K * d)).astype(np.float32)
    if theta is None:
        h = (r.standard_normal((h_len, d)) * 0.3).astype(np.float32)
    else:
        h = legendre_response(d, theta, h_len).astype(np.float32)
    lengths = np.array(lengths, dtype=np.int32)
    want_m = np.zeros((B, T, K, d))
    want_du = np.zeros((B, T, K))
    h64 = np.zeros((max(T, h_len), d))
    h64[:h_len] = h
    for b in range(B):
        n = int(lengths[b])
        for k in range(K):
            x = u[b, :n, k].astype(np.float64)
            g = dm[b, :n, k * d:(k + 1) * d].astype(np.float64)
            for i in range(d):
                if n:
                    want_m[b, :n, k, i] = np.convolve(x, h64[:n, i])[:n]
                    want_du[b, :n, k] += np.correlate(g[:, i], h64[:n, i], "full")[n - 1:]
    logn = fft_logn(T)
    n = 1 << logn
    half = n // 2 + 1
    lanes = FFT_BUF >> logn
    a = FFT_BUF + lanes
    shared = 8 * (a + a // 16 + 1)
    pps = lanes * ((max(lanes, FFT_PAIRS_PER_SLICE) + lanes - 1) // lanes)
    slices = ((d + 1) // 2 + pps - 1) // pps
    tw = nan(n, 2)
    hs, us, part = nan(d, half, 2), nan(B * K, half, 2), nan(B * K * slices, half, 2)
    m, du = nan(B, T, K * d), nan(B, T, K)
    launch("lmu_conv", "lmu_conv_fft_twiddle_kernel", ((n + 255) // 256,), 256, 0, ptr(tw), i32(logn))
    want_tw = np.exp(-2j * np.pi * np.arange(n) / n)
    compare("twiddles (re)", tw[:, 0], want_tw.real, 1)
    compare("twiddles (im)", tw[:, 1], want_tw.imag, 1)
    launch("lmu_conv", "lmu_conv_fft_spectrum_kernel", ((d + 2 * lanes - 1) // (2 * lanes),), 512, shared, ptr(hs), ptr(h),
           ptr(None), i32(d), i32(d), i64(0), i32(d), i32(min(h_len, n // 2)), i32(logn), ptr(tw))
    hpad = np.zeros((n, d))
    hpad[:min(h_len, n // 2)] = h[:min(h_len, n // 2)]
    want_hs = np.fft.rfft(hpad, axis=0).T
    compare("H spectrum (re)", hs[..., 0], want_hs.real, n)
    compare("H spectrum (im)", hs[..., 1], want_hs.imag, n)
    launch("lmu_conv", "lmu_conv_fft_spectrum_kernel", ((B * K + 2 * lanes - 1) // (2 * lanes),), 512, shared, ptr(us), ptr(u),
           ptr(lengths), i32(B * K), i32(K), i64(T * K), i32(K), i32(T), i32(logn), ptr(tw))
    launch("lmu_conv", "lmu_conv_fft_forward_kernel", ((d + 2 * lanes - 1) // (2 * lanes), B * K), 512, shared, ptr(m), ptr(us),
           ptr(hs), ptr(lengths), i32(T), i32(K), i32(d), i32(logn), ptr(tw))
    launch("lmu_conv", "lmu_conv_fft_backward_kernel", (slices, B * K), 1024, shared + 8 * half, ptr(part), ptr(dm), ptr(hs),
           ptr(lengths), i32(T), i32(K), i32(d), i32(pps), i32(logn), ptr(tw))
    launch("lmu_conv", "lmu_conv_fft_backward_output_kernel", ((B * K + 2 * lanes - 1) // (2 * lanes),), 512, shared, ptr(du),
           ptr(part), ptr(lengths), i32(B), i32(T), i32(K), i32(slices), i32(logn), ptr(tw))
    compare("m (fft)", m, want_m.reshape(B, T, K * d), T)
    compare("du (fft)", du, want_du, T * d)


def check_conv_fft():
    print("conv fft T=1 d=1 (N 16, 512 lanes)")
    conv_fft_case(2, 1, 1, 1, [1, 0], 1, 60)
    print("conv fft T=13 K=3 d=7, an empty sequence")
    conv_fft_case(4, 13, 3, 7, [13, 0, 5, 1], 13, 61)
    print("conv fft T=70 K=2 d=65 (odd d, N 256)")
    conv_fft_case(2, 70, 2, 65, [70, 66], 80, 62)
    print("conv fft T=25 K=2 d=4 (N 64: radix 8 only)")
    conv_fft_case(2, 25, 2, 4, [25, 24], 25, 65)
    print("conv fft T=300 K=1 d=40 (N 1024, 2 slices), h_len < T")
    conv_fft_case(3, 300, 1, 40, [300, 17, 250], 260, 63)
    print("conv fft T=1500 K=1 d=3 (N 4096, radix 8 only, 2 lanes)")
    conv_fft_case(3, 1500, 1, 3, [1500, 1499, 2], 1500, 66)
    print("conv fft T=2100 K=1 d=5 (N 8192, one lane per block), h_len > N/2")
    conv_fft_case(2, 2100, 1, 5, [2100, 1500], 4500, 64)


def check_conv_fft_seed():
    print("conv fft seed shape T=3000 K=1 d=192, the Legendre response (theta 200), a padded sequence (slow)")
    conv_fft_case(2, 3000, 1, 192, [3000, 1733], 3000, 67, theta=200)


def check_conv():
    print("conv T=1 d=1")
    conv_case(2, 1, 1, 1, [1, 0], 40)
    print("conv T=13 K=3 d=7")
    conv_case(3, 13, 3, 7, [13, 0, 5], 41)
    print("conv T=70 K=2 d=65 (tile tails)")
    conv_case(2, 70, 2, 65, [70, 66], 42)


# ---------------------------------------------------------------- attention

GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def rng_bits(seed, counters):
    """lmu.util.Rng.bits(seed, i) for an array of counters (uint64 arithmetic wraps as Java's long)."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed & (2**64 - 1)) + (counters.astype(np.uint64) + np.uint64(1)) * GOLDEN
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def signed64(v):
    v &= 2**64 - 1
    return v - 2**64 if v >= 2**63 else v


def att_case(B, T, Hh, D, lengths, seed, pdrop=0.0, mask_value=-1e4, table=False):
    r = np.random.default_rng(seed)
    C = Hh * D
    q, k, v, do = (r.standard_normal((B, T, C)).astype(np.float32) for _ in range(4))
    lens = None if lengths is None else np.array(lengths, dtype=np.int32)
    tq, tk, tv = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (q, k, v))
    split = lambda t: t.view(B, T, Hh, D).permute(0, 2, 1, 3)
    s = (split(tq) * (1 / math.sqrt(D))) @ split(tk).transpose(-1, -2)  # (B, H, T, T)
    if lens is not None:
        pad = torch.arange(T)[None, :] >= torch.tensor(lens, dtype=torch.int64)[:, None]
        s = s.masked_fill(pad[:, None, None, :], mask_value)
    w = torch.softmax(s, -1)
    drop_seed = int(r.integers(0, 2**63)) * 2 + 1  # above 2^63: exercises the unsigned conversion
    threshold = math.ceil(pdrop * 2.0**53)
    if pdrop > 0:
        # the CPU rule (CpuAttention, Backend.dropout): counter = element index of the (B H, T, T) weights
        keep = (rng_bits(drop_seed, np.arange(B * Hh * T * T)) >> np.uint64(11)) >= np.uint64(threshold)
        w = w * torch.tensor(keep.reshape(B, Hh, T, T), dtype=torch.float64) * float(np.float32(1 / (1 - pdrop)))
    o = (w @ split(tv)).permute(0, 2, 1, 3).reshape(B, T, C)
    o.backward(torch.tensor(do, dtype=torch.float64))
    scale = np.float32(1 / math.sqrt(D))
    keep_scale = np.float32(1 / (1 - pdrop))
    drop = (i64(signed64(drop_seed)), ptr(None), i32(0), i64(threshold), f32(keep_scale))
    if table:
        # the seed from slot 2 of a device seed table (four exact 16-bit chunks, low first); the argument seed is a decoy
        seeds = np.full(4 * 3, 7.0, dtype=np.float32)
        seeds[8:12] = [(drop_seed >> (16 * j)) & 0xFFFF for j in range(4)]
        drop_table = (i64(12345), ptr(seeds), i32(2), i64(threshold), f32(keep_scale))

    def run(drop):
        od, lse, dd, dq, dk, dv = nan(B, T, C), nan(B, Hh, T, 2), nan(B, Hh, T), nan(B, T, C), nan(B, T, C), nan(B, T, C)
        hd = f"hd{D}"
        launch("attention", "attention_forward_kernel_" + hd, ((T + 31) // 32, Hh, B), 128, 0, ptr(od), ptr(lse), ptr(q), ptr(k),
               ptr(v), ptr(lens), i32(T), i32(Hh), f32(scale), f32(mask_value), *drop)
        launch("attention", "attention_backward_dot_kernel_" + hd, ((B * T * Hh + 3) // 4,), 128, 0, ptr(dd), ptr(do), ptr(od),
               i32(B), i32(T), i32(Hh))
        launch("attention", "attention_backward_dq_kernel_" + hd, ((T + 31) // 32, Hh, B), 128, 0, ptr(dq), ptr(q), ptr(k),
               ptr(v), ptr(do), ptr(lse), ptr(dd), ptr(lens), i32(T), i32(Hh), f32(scale), *drop)
        launch("attention", "attention_backward_dkdv_kernel_" + hd, ((T + 63) // 64, Hh, B), 128, 0, ptr(dk), ptr(dv), ptr(q),
               ptr(k), ptr(v), ptr(do), ptr(lse), ptr(dd), ptr(lens), i32(T), i32(Hh), f32(scale), f32(mask_value), *drop)
        return od, lse, dd, dq, dk, dv

    od, lse, dd, dq, dk, dv = run(drop)
    if table:  # the table's seed must give the plain seed's results bit for bit
        for name, a, b in zip(("o", "stats", "dd", "dq", "dk", "dv"), run(drop_table), (od, lse, dd, dq, dk, dv)):
            assert np.array_equal(a, b, equal_nan=True), f"{name}: seed-table result differs from the plain seed's"
        print("  seed table == plain seed (bitwise)")
    compare("o", od, o.detach().numpy(), T * D)
    compare("dq", dq, tq.grad.numpy(), T * D)
    compare("dk", dk, tk.grad.numpy(), T * D)
    compare("dv", dv, tv.grad.numpy(), T * D)


def check_att():
    print("attention hd64 T=1")
    att_case(2, 1, 2, 64, [1, 1], 50)
    print("attention hd64 T=37 padded, one all-padded")
    att_case(3, 37, 2, 64, [37, 20, 0], 51)
    print("attention hd32 T=70")
    att_case(2, 70, 1, 32, [13, 70], 52)
    print("attention hd64 no mask")
    att_case(1, 33, 1, 64, None, 53)
    print("attention hd64 T=37 padded, one all-padded, dropout 0.1")
    att_case(3, 37, 2, 64, [37, 20, 0], 54, pdrop=0.1)
    print("attention hd32 T=70 dropout 0.5, mask value -30")
    att_case(2, 70, 2, 32, [13, 70], 55, pdrop=0.5, mask_value=-30.0)
    print("attention hd64 T=1 dropout 0.3")
    att_case(2, 1, 1, 64, None, 56, pdrop=0.3)
    print("attention hd64 T=37 padded, dropout 0.1, seed from a device seed table")
    att_case(3, 37, 2, 64, [37, 20, 0], 54, pdrop=0.1, table=True)


# ---------------------------------------------------------------- attention, fp16 / bf16 (attention_half.cu)

def to_half_bits(a, fmt):
    """float32 array -> uint16 bits of fp16 or bf16, rounded to nearest even."""
    a = np.asarray(a, dtype=np.float32)
    if fmt == "f16":
        return a.astype(np.float16).view(np.uint16)
    u = a.view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def from_half_bits(h, fmt):
    if fmt == "f16":
        return h.view(np.float16).astype(np.float32)
    return (h.astype(np.uint32) << 16).view(np.float32)


def atth_case(fmt, B, T, Hh, D, lengths, seed, pdrop=0.0, mask_value=-1e4, table=False):
    """attention_half.cu against float64 on the same half-rounded q, k, v, dO (Tolerance of the format)."""
    r = np.random.default_rng(seed)
    C = Hh * D
    bits = [to_half_bits(r.standard_normal((B, T, C)), fmt) for _ in range(4)]
    q, k, v, do = (from_half_bits(x, fmt) for x in bits)
    lens = None if lengths is None else np.array(lengths, dtype=np.int32)
    tq, tk, tv = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (q, k, v))
    split = lambda t: t.view(B, T, Hh, D).permute(0, 2, 1, 3)
    scale = np.float32(1 / math.sqrt(D))
    s = (split(tq) @ split(tk).transpose(-1, -2)) * float(scale)  # (B, H, T, T)
    if lens is not None:
        pad = torch.arange(T)[None, :] >= torch.tensor(lens, dtype=torch.int64)[:, None]
        s = s.masked_fill(pad[:, None, None, :], mask_value)
    w = torch.softmax(s, -1)
    drop_seed = int(r.integers(0, 2**63)) * 2 + 1
    threshold = math.ceil(pdrop * 2.0**53)
    if pdrop > 0:
        keep = (rng_bits(drop_seed, np.arange(B * Hh * T * T)) >> np.uint64(11)) >= np.uint64(threshold)
        w = w * torch.tensor(keep.reshape(B, Hh, T, T), dtype=torch.float64) * float(np.float32(1 / (1 - pdrop)))
    o = (w @ split(tv)).permute(0, 2, 1, 3).reshape(B, T, C)
    o.backward(torch.tensor(do, dtype=torch.float64))
    keep_scale = np.float32(1 / (1 - pdrop))
    drop = (i64(signed64(drop_seed)), ptr(None), i32(0), i64(threshold), f32(keep_scale))
    if table:
        # the seed from slot 2 of a device seed table (four exact 16-bit chunks, low first); the argument seed is a decoy
        seeds = np.full(4 * 3, 7.0, dtype=np.float32)
        seeds[8:12] = [(drop_seed >> (16 * j)) & 0xFFFF for j in range(4)]
        drop_table = (i64(12345), ptr(seeds), i32(2), i64(threshold), f32(keep_scale))

    def run(drop):
        hnan = lambda *shape: np.full(shape, 0x7E00 if fmt == "f16" else 0x7FC0, dtype=np.uint16)
        od, dq, dk, dv = hnan(B, T, C), hnan(B, T, C), hnan(B, T, C), hnan(B, T, C)
        lse, dd = nan(B, Hh, T, 2), nan(B, Hh, T)
        hq, hk, hv, hdo = bits
        sfx = f"hd{D}_{fmt}"
        launch("attention_half", "attention_half_forward_kernel_" + sfx, ((T + 63) // 64, Hh, B), 128, 0, ptr(od), ptr(lse),
               ptr(hq), ptr(hk), ptr(hv), ptr(lens), i32(T), i32(Hh), f32(scale), f32(mask_value), *drop)
        launch("attention_half", "attention_half_backward_dot_kernel_" + sfx, ((B * T * Hh + 3) // 4,), 128, 0, ptr(dd),
               ptr(hdo), ptr(od), i32(B), i32(T), i32(Hh))
        launch("attention_half", "attention_half_backward_dq_kernel_" + sfx, ((T + 63) // 64, Hh, B), 128, 0, ptr(dq), ptr(hq),
               ptr(hk), ptr(hv), ptr(hdo), ptr(lse), ptr(dd), ptr(lens), i32(T), i32(Hh), f32(scale), *drop)
        launch("attention_half", "attention_half_backward_dkdv_kernel_" + sfx, ((T + 63) // 64, Hh, B), 128, 0, ptr(dk), ptr(dv),
               ptr(hq), ptr(hk), ptr(hv), ptr(hdo), ptr(lse), ptr(dd), ptr(lens), i32(T), i32(Hh), f32(scale), f32(mask_value),
               *drop)
        return od, lse, dd, dq, dk, dv

    od, lse, dd, dq, dk, dv = run(drop)
    if table:  # the table's seed must give the plain seed's results bit for bit
        for name, a, b in zip(("o", "stats", "dd", "dq", "dk", "dv"), run(drop_table), (od, lse, dd, dq, dk, dv)):
            assert np.array_equal(a, b, equal_nan=True), f"{name}: seed-table result differs from the plain seed's"
        print("  seed table == plain seed (bitwise)")
    eps = 8 * 2.0**-11 if fmt == "f16" else 4 * 2.0**-8
    # n = T: the weights of a row sum to 1, so the rounding of p', ds and the output to the format adds errors
    # that grow with the number of keys, not with T Dh (a wrong dropout mask on one kernel fails this bound)
    # statistics against float64 (the row max and log-sum-exp of the scores before dropout)
    sd = s.detach()
    want_m = sd.max(-1).values
    want_stats = torch.stack([want_m, torch.log(torch.exp(sd - want_m[..., None]).sum(-1))], -1).numpy()
    compare(f"{fmt} stats", lse, want_stats, T, eps)
    compare(f"{fmt} o", from_half_bits(od, fmt), o.detach().numpy(), T, eps)
    compare(f"{fmt} dq", from_half_bits(dq, fmt), tq.grad.numpy(), T, eps)
    compare(f"{fmt} dk", from_half_bits(dk, fmt), tk.grad.numpy(), T, eps)
    compare(f"{fmt} dv", from_half_bits(dv, fmt), tv.grad.numpy(), T, eps)


def check_atth():
    for fmt in ("f16", "bf16"):
        print(f"attention {fmt} hd64 T=1")
        atth_case(fmt, 2, 1, 2, 64, [1, 1], 60)
        print(f"attention {fmt} hd64 T=77 padded, one all-padded")
        atth_case(fmt, 3, 77, 2, 64, [77, 40, 0], 61)
        print(f"attention {fmt} hd32 T=70 no mask")
        atth_case(fmt, 2, 70, 1, 32, None, 62)
        print(f"attention {fmt} hd64 T=77 padded, dropout 0.1")
        atth_case(fmt, 3, 77, 2, 64, [77, 40, 0], 63, pdrop=0.1)
        print(f"attention {fmt} hd32 T=130 dropout 0.5, mask value -30")
        atth_case(fmt, 2, 130, 2, 32, [13, 130], 64, pdrop=0.5, mask_value=-30.0)
        print(f"attention {fmt} hd64 T=77 padded, dropout 0.1, seed from a device seed table")
        atth_case(fmt, 3, 77, 2, 64, [77, 40, 0], 63, pdrop=0.1, table=True)


if __name__ == "__main__":
    which = sys.argv[1:] or ["ctc", "rec", "conv", "fft", "att", "atth"]
    for w in which:
        {"ctc": check_ctc, "rec": check_rec, "conv": check_conv, "fft": check_conv_fft, "fft-seed": check_conv_fft_seed,
         "att": check_att, "atth": check_atth}[w]()
    print("all emulated kernels match" if not failures else f"{len(failures)} comparison(s) failed")
    sys.exit(1 if failures else 0)
