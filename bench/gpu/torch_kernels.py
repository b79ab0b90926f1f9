#!/usr/bin/env python3
"""PyTorch timings of the shapes of lmu.backend.cuda.kernels.ModelKernelBenchmark, for the side-by-side.

Kernel time with CUDA events, L2 flushed (256 MiB write) before every timed run, median of N runs:
  attention: torch.nn.functional.scaled_dot_product_attention, B 96, T 200, 6 heads x 64 (and
             12 x 32), fp32, with the key padding mask as a boolean attn_mask (the engine's case)
             and without a mask (lets PyTorch pick its fastest kernel); forward, backward, both;
             and in fp16 and bf16 (what autocast runs, flash / memory-efficient kernels on tensor
             cores) with dropout_p 0.1, heads x 64, q, k, v as (B, T, H, Dh) transposed views (the
             engine's layout): rows sdpa_{f16,bf16}_{mask,nomask}_dropout0.1_*, beside the engine's
             attention_{f16,bf16}_*_dropout0.1 rows
  ctc:       torch.nn.functional.ctc_loss on log_softmax(logits), B 96, T 400, V 29, L 100, fp32,
             reduction mean; forward + backward (log-softmax included, as the engine fuses it)
  lmu conv:  the parallel LMU's causal convolution by FFT (rfft of u and H zero-padded to 2T,
             product, irfft; H's spectrum computed once), B 96, K 1, d 192, T 192, 256, 320, 1500
             and 3000 (the engine's FFT rows); forward, and backward (the correlation: rfft of
             dm, product with conj(H), sum over d, irfft)
Writes torch-kernels.json in the working directory. Run by bench/gpu/run_all.sh when `import torch`
works on the GPU machine:  python3 torch_kernels.py [repeats]
"""
import json
import sys

import torch
import torch.nn.functional as F

REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
dev = torch.device("cuda")
flush = torch.empty(256 << 20, dtype=torch.uint8, device=dev)
rows = []


def timed(fn):
    for _ in range(3):
        fn()
    ms = []
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for i in range(REPEATS):
        flush.fill_(i & 0xFF)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        ms.append(start.elapsed_time(stop))
    ms.sort()
    return ms[len(ms) // 2]


def add(kernel, shape, ms, unit, rate):
    rows.append({"kernel": kernel, "shape": shape, "ms": round(ms, 4), unit: round(rate, 2)})
    print(f"{kernel:34s} {shape:28s} {ms:9.3f} ms  {rate:9.2f} {unit}", flush=True)


def attention(head_dim):
    b, t, heads = 96, 200, 384 // head_dim
    g = torch.Generator(device="cpu").manual_seed(1)
    lengths = t - torch.randint(0, t // 4, (b,), generator=g)
    shape = f"B{b}_T{t}_H{heads}_D{head_dim}"
    q, k, v = (torch.randn(b, heads, t, head_dim, device=dev, requires_grad=True) for _ in range(3))
    dout = torch.randn(b, heads, t, head_dim, device=dev)
    keep = (torch.arange(t)[None, :] < lengths[:, None]).to(dev)[:, None, None, :]  # (B, 1, 1, T), True = attend
    fwd_flops = 4.0 * b * heads * t * t * head_dim
    for name, mask in (("sdpa_mask", keep), ("sdpa_nomask", None)):
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        f = timed(lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=mask))
        add(name + "_forward", shape, f, "TFLOP/s", fwd_flops / f / 1e9)
        bw = timed(lambda: torch.autograd.grad(out, (q, k, v), dout, retain_graph=True))
        add(name + "_backward", shape, bw, "TFLOP/s", 2.5 * fwd_flops / bw / 1e9)

        def both():
            o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            torch.autograd.grad(o, (q, k, v), dout)

        fb = timed(both)
        add(name + "_forward_backward", shape, fb, "TFLOP/s", 3.5 * fwd_flops / fb / 1e9)


def attention_half(dtype, name):
    b, t, head_dim = 96, 200, 64
    heads = 384 // head_dim
    g = torch.Generator(device="cpu").manual_seed(1)
    lengths = t - torch.randint(0, t // 4, (b,), generator=g)
    shape = f"B{b}_T{t}_H{heads}_D{head_dim}"
    # (B, T, H, Dh) storage as the projections write it, seen as (B, H, T, Dh)
    q, k, v = (torch.randn(b, t, heads, head_dim, device=dev, dtype=dtype).transpose(1, 2).requires_grad_(True)
               for _ in range(3))
    dout = torch.randn(b, t, heads, head_dim, device=dev, dtype=dtype).transpose(1, 2)
    keep = (torch.arange(t)[None, :] < lengths[:, None]).to(dev)[:, None, None, :]
    fwd_flops = 4.0 * b * heads * t * t * head_dim
    for variant, mask in (("mask", keep), ("nomask", None)):
        row = f"sdpa_{name}_{variant}_dropout0.1"
        sdpa = lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=0.1)
        out = sdpa()
        f = timed(sdpa)
        add(row + "_forward", shape, f, "TFLOP/s", fwd_flops / f / 1e9)
        bw = timed(lambda: torch.autograd.grad(out, (q, k, v), dout, retain_graph=True))
        add(row + "_backward", shape, bw, "TFLOP/s", 2.5 * fwd_flops / bw / 1e9)

        def both():
            torch.autograd.grad(sdpa(), (q, k, v), dout)

        fb = timed(both)
        add(row + "_forward_backward", shape, fb, "TFLOP/s", 3.5 * fwd_flops / fb / 1e9)


def ctc():
    b, t, v, l = 96, 400, 29, 100
    g = torch.Generator(device="cpu").manual_seed(1)
    in_lens = t - torch.randint(0, t // 4, (b,), generator=g)
    tgt_lens = l - torch.randint(0, l // 4, (b,), generator=g)
    targets = torch.randint(1, v, (b, l), generator=g)
    logits = torch.randn(t, b, v, device=dev, requires_grad=True)
    in_lens, tgt_lens, targets = in_lens.to(dev), tgt_lens.to(dev), targets.to(dev)
    shape = f"B{b}_T{t}_V{v}_L{l}"

    def both():
        loss = F.ctc_loss(F.log_softmax(logits, -1), targets, in_lens, tgt_lens, blank=0, reduction="mean")
        torch.autograd.grad(loss, logits)

    fb = timed(both)
    states = 2 * l + 1
    # the same napkin bytes as the engine's benchmark: logits read twice, gradient written, log-alpha written and read
    n = b * t * v
    nbytes = 4.0 * (3 * n + 2 * b * t * states)
    add("ctc_loss_forward_backward", shape, fb, "GB/s", nbytes / fb / 1e6)


def conv():
    for t in (192, 256, 320, 1500, 3000):
        conv_at(t)


def conv_at(t):
    b, k, d = 96, 1, 192
    shape = f"B{b}_T{t}_K{k}_d{d}"
    u = torch.randn(b, k, t, device=dev)
    dm = torch.randn(b, k, d, t, device=dev)
    h = torch.randn(d, t, device=dev) * 0.05
    n = 2 * t
    hf = torch.fft.rfft(h, n=n)  # fixed: computed once, as the engine caches its impulse response

    def fwd():
        uf = torch.fft.rfft(u, n=n)  # (B, K, n/2+1)
        return torch.fft.irfft(uf[:, :, None, :] * hf[None, None], n=n)[..., :t]  # (B, K, d, T)

    def bwd():
        gf = torch.fft.rfft(dm, n=n)  # (B, K, d, n/2+1)
        return torch.fft.irfft((gf * hf.conj()[None, None]).sum(2), n=n)[..., :t]  # (B, K, T)

    # the same napkin bytes as the engine's benchmark: m written (dm read) and u (du)
    nbytes = 4.0 * (b * t * k * d + b * t * k)
    f = timed(fwd)
    add("lmu_conv_forward_fft", shape, f, "GB/s", nbytes / f / 1e6)
    g = timed(bwd)
    add("lmu_conv_backward_fft", shape, g, "GB/s", nbytes / g / 1e6)


if __name__ == "__main__":
    print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__} (median of {REPEATS} runs, L2 flushed, CUDA events)")
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 throughout, as the engine's kernels
    if hasattr(F, "scaled_dot_product_attention"):  # PyTorch 2.0 and later
        for hd in (64, 32):
            attention(hd)
        attention_half(torch.float16, "f16")
        if torch.cuda.is_bf16_supported():
            attention_half(torch.bfloat16, "bf16")
    else:
        print(f"attention: skipped, torch {torch.__version__} has no scaled_dot_product_attention")
    ctc()
    conv()
    with open("torch-kernels.json", "w") as fh:
        json.dump({"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "results": rows}, fh, indent=1)
