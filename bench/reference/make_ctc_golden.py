#!/usr/bin/python3
"""Golden files for lmu.speech.ctc.CtcLoss from torch.nn.functional.ctc_loss.

Run with Debian's python3-torch:  /usr/bin/python3 bench/reference/make_ctc_golden.py
Writes src/test/resources/golden/ctc/<case>.json (and <case>_grad_mean.f32 for large cases).

Reference values are computed by PyTorch in float64 from float32 logits (log_softmax, then
ctc_loss in time-major (T, B, V) layout); the float32 PyTorch loss is stored too, for information.
Large logits are not stored: they come from a 32-bit LCG that the Java test reproduces exactly
(x <- 1664525 x + 1013904223 mod 2^32; logit = float32(((x >> 8) / 2^24 - 0.5) * 8)).
"""
import json
import os
import struct

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "test", "resources", "golden", "ctc")


def lcg_logits(seed, n):
    x = seed & 0xFFFFFFFF
    out = []
    for _ in range(n):
        x = (1664525 * x + 1013904223) & 0xFFFFFFFF
        out.append(((x >> 8) / 16777216.0 - 0.5) * 8.0)
    return torch.tensor(out, dtype=torch.float64).to(torch.float32)


def lcg_ints(seed, n, lo, hi):
    """n integers in [lo, hi] from the same LCG (upper bits)."""
    x = seed & 0xFFFFFFFF
    out = []
    for _ in range(n):
        x = (1664525 * x + 1013904223) & 0xFFFFFFFF
        out.append(lo + (x >> 8) % (hi - lo + 1))
    return out


def make(name, T, B, V, L, input_lengths, targets, target_lengths, seed=None, logits=None, store_logits=True):
    if logits is None:
        logits = lcg_logits(seed, T * B * V)
    logits = logits.reshape(T, B, V)
    tg = torch.tensor(targets, dtype=torch.long).reshape(B, L)
    il = torch.tensor(input_lengths, dtype=torch.long)
    tl = torch.tensor(target_lengths, dtype=torch.long)
    rec = {"T": T, "B": B, "V": V, "L": L, "layout": "TIME_MAJOR",
           "input_lengths": input_lengths, "targets": targets, "target_lengths": target_lengths}
    if store_logits:
        rec["logits"] = [float(v) for v in logits.flatten().tolist()]
    else:
        rec["logits_lcg_seed"] = seed
    res = {}
    for zi in (False, True):
        x = logits.to(torch.float64).requires_grad_(True)
        lp = F.log_softmax(x, dim=2)
        none = F.ctc_loss(lp, tg, il, tl, blank=0, reduction="none", zero_infinity=zi)
        mean = F.ctc_loss(lp, tg, il, tl, blank=0, reduction="mean", zero_infinity=zi)
        total = F.ctc_loss(lp, tg, il, tl, blank=0, reduction="sum", zero_infinity=zi)
        mean.backward()
        key = "zero_infinity" if zi else "plain"
        f32 = F.ctc_loss(F.log_softmax(logits, dim=2), tg, il, tl, blank=0, reduction="none", zero_infinity=zi)
        res[key] = {"loss_none": [float(v) for v in none.tolist()],
                    "loss_none_float32": [float(v) for v in f32.tolist()],
                    "loss_mean": float(mean), "loss_sum": float(total),
                    "grad": x.grad}
    for key in ("plain", "zero_infinity"):
        g = res[key].pop("grad")
        if store_logits:
            res[key]["grad_mean"] = [float(v) for v in g.flatten().tolist()]
        elif key == "zero_infinity" and not any(v == float("inf") for v in res["plain"]["loss_none"]):
            res[key]["grad_mean_file"] = res["plain"]["grad_mean_file"]  # nothing infeasible: same gradient
        else:
            fname = f"{name}_{key}_grad_mean.f32"
            flat = g.to(torch.float32).flatten().tolist()
            with open(os.path.join(OUT, fname), "wb") as f:
                f.write(struct.pack("<%df" % len(flat), *flat))
            res[key]["grad_mean_file"] = fname
    rec.update(res)
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(rec, f, allow_nan=True, separators=(",", ":"))
    print(name, rec["plain"]["loss_mean"], rec["plain"]["loss_none"][:4])


def padded(seqs, L):
    out = []
    for s in seqs:
        out += s + [0] * (L - len(s))
    return out


def main():
    torch.set_num_threads(2)
    os.makedirs(OUT, exist_ok=True)
    # small: ragged lengths, repeated labels, an empty target
    seqs = [[1, 1, 2, 2], [3, 4], [2, 3, 3], []]
    make("small", 12, 4, 5, 4, [12, 9, 7, 5], padded(seqs, 4), [len(s) for s in seqs], seed=11)
    # infeasible: utterance 1 needs 5 frames ([1,1,1]: 3 labels + 2 repeats) but has 4
    seqs = [[1, 2], [1, 1, 1], [3]]
    make("infeasible", 6, 3, 4, 3, [6, 4, 2], padded(seqs, 3), [len(s) for s in seqs], seed=23)
    # medium: V=6, longer labels with runs of repeats
    seqs = [[1, 2, 2, 3, 4, 5, 5, 5, 1, 2], [5, 4, 3, 2, 1], [1, 1, 1, 1, 2, 2, 2, 2], [3] * 10]
    make("medium", 50, 4, 6, 10, [50, 41, 30, 25], padded(seqs, 10), [len(s) for s in seqs], seed=37)
    # large: the benchmark shape T=200, B=16, V=29, L=50, ragged
    B, L = 16, 50
    tl = lcg_ints(101, B, 20, L)
    tl[0] = L
    il = [max(200 - 7 * b, 2 * tl[b] + 5) for b in range(B)]
    labels = lcg_ints(202, B * L, 1, 28)
    seqs = []
    for b in range(B):
        s = labels[b * L:b * L + tl[b]]
        if b % 3 == 0:  # force some adjacent repeats
            for i in range(1, len(s), 7):
                s[i] = s[i - 1]
        seqs.append(s)
    make("large", 200, B, 29, L, il, padded(seqs, L), tl, seed=303, store_logits=False)


if __name__ == "__main__":
    main()
