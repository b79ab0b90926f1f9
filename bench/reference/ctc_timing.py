#!/usr/bin/python3
"""PyTorch CPU timing of log_softmax + ctc_loss forward and backward (mean reduction).

Shape T=200, B=16, V=29, L=50 (all utterances full length), time-major as PyTorch expects.
Prints one line per repetition: "torch rep <i> <ms per iteration>", then the median.
Usage: /usr/bin/python3 bench/reference/ctc_timing.py [threads] [reps] [iters]
"""
import statistics
import sys
import time

import torch
import torch.nn.functional as F

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
reps = int(sys.argv[2]) if len(sys.argv) > 2 else 7
iters = int(sys.argv[3]) if len(sys.argv) > 3 else 50
torch.set_num_threads(threads)
T, B, V, L = 200, 16, 29, 50
g = torch.Generator().manual_seed(0)
logits = torch.randn(T, B, V, generator=g).requires_grad_(True)
targets = torch.randint(1, V, (B, L), generator=g)
il = torch.full((B,), T, dtype=torch.long)
tl = torch.full((B,), L, dtype=torch.long)


def step():
    logits.grad = None
    loss = F.ctc_loss(F.log_softmax(logits, dim=2), targets, il, tl, blank=0, reduction="mean")
    loss.backward()
    return loss


for _ in range(20):
    step()
times = []
for r in range(reps):
    t0 = time.perf_counter()
    for _ in range(iters):
        step()
    ms = (time.perf_counter() - t0) * 1000 / iters
    times.append(ms)
    print(f"torch rep {r} {ms:.3f} ms")
print(f"torch {torch.__version__} threads={threads} median {statistics.median(times):.3f} ms")
