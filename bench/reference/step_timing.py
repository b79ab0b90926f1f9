#!/usr/bin/python3
"""PyTorch CPU timing of the pieces bench/compare_pytorch.sh compares, on the reference model of
lmu_torch.py (configs/seed.yaml by default), float32, eager mode:

  step     whole training step: forward (training mode, dropout on), CTC (mean), backward,
           clip_grad_norm_(5.0), AdamW(betas 0.9/0.98, eps 1e-9, weight decay 0.01)
           on random features (B, T, 80), all frames valid, T'/3 random labels per utterance
           (the same recipe as the engine's bench-step / lmu.train.StepBenchmark)
  lmu      one LMU layer of block 1, forward + backward (input and weight gradients), (B, T, C)
  attention  one attention layer of block 1 (no dropout), forward + backward, (B, T, C)

Prints one line per measurement: "<name> <median seconds> <min> <max> <n>" (medians over the timed
iterations after the untimed warm-up ones).

  /usr/bin/python3 bench/reference/step_timing.py --threads 2 step --batch 8 16 --frames 400
  /usr/bin/python3 bench/reference/step_timing.py --threads 2 layers --batch 8 --frames 400
"""
import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lmu_torch  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def timed(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    t = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return statistics.median(t), min(t), max(t), len(t)


def report(name, r):
    print(f"{name} {r[0]:.6f} {r[1]:.6f} {r[2]:.6f} {r[3]}", flush=True)


def step_bench(cfg, batch, frames, warmup, iters):
    g = torch.Generator().manual_seed(5)
    model = lmu_torch.CtcModel(cfg)
    lmu_torch.init_like_engine(model, 1)
    model.train()
    x = torch.randn(batch, frames, cfg["input_dim"], generator=g)
    lengths = torch.full((batch,), frames, dtype=torch.long)
    out_frames = model.encoder.downsample[0].out_lengths(lengths) if cfg["downsample_after"] else lengths
    labels = max(1, int(out_frames[0]) // 3)
    targets = torch.randint(1, len(cfg["vocabulary"]) + 1, (batch, labels), generator=g)
    target_lengths = torch.full((batch,), labels, dtype=torch.long)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-9, weight_decay=0.01)

    def step():
        log_probs, out_lengths = model(x, lengths)
        loss = model.loss(log_probs, out_lengths, targets, target_lengths)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        opt.zero_grad(set_to_none=False)

    return timed(step, warmup, iters)


def layer_benches(cfg, batch, frames, warmup, iters):
    g = torch.Generator().manual_seed(7)
    c = cfg["hidden"]
    lmu = lmu_torch.Lmu(c, cfg["lmu"])
    att = lmu_torch.Attention(c, cfg["heads"], 0.0).eval()
    for m in (lmu, att):
        for name, p in m.named_parameters():
            with torch.no_grad():
                p.uniform_(-0.05, 0.05, generator=g)
    x = torch.randn(batch, frames, c, generator=g, requires_grad=True)
    dy = torch.randn(batch, frames, c, generator=g)
    lengths = torch.full((batch,), frames, dtype=torch.long)
    out = {}
    for name, layer in (("lmu", lmu), ("attention", att)):
        def run():
            x.grad = None
            layer.zero_grad(set_to_none=False)
            y = layer(x, lengths)
            y.backward(dy)
        out[name] = timed(run, warmup, iters)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--config", default=os.path.join(ROOT, "configs", "seed.yaml"))
    ap.add_argument("what", choices=["step", "layers"])
    ap.add_argument("--batch", type=int, nargs="+", default=[8])
    ap.add_argument("--frames", type=int, default=400)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--iters", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = lmu_torch.model_config(open(args.config).read())
    for b in args.batch:
        if args.what == "step":
            report(f"step_b{b}_t{args.frames}", step_bench(cfg, b, args.frames, args.warmup, args.iters))
        else:
            for name, r in layer_benches(cfg, b, args.frames, args.warmup, args.iters).items():
                report(f"{name}_b{b}_t{args.frames}", r)


if __name__ == "__main__":
    main()
