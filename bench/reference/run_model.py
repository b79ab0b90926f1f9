#!/usr/bin/python3
"""Loss, output log-probabilities and gradients of the PyTorch reference model (lmu_torch.py) for an
engine checkpoint and a batch.

  /usr/bin/python3 bench/reference/run_model.py --checkpoint runs/x/checkpoint_epoch_3 --batch batch.safetensors
  /usr/bin/python3 bench/reference/run_model.py --config configs/small.yaml --weights model.safetensors \
      --batch batch.safetensors --out ref.safetensors

The batch file is a safetensors file with features (B, T, input_dim), lengths (B), targets (B, L)
(padded, labels 1..V-1) and target_lengths (B); integer entries may be stored as I32, I64 or F32
(src/test/resources/golden/model/*.batch.safetensors are examples). The model runs in evaluation
mode (no dropout) in float64 by default; --out writes log_probs (B, T', V), out_lengths (B), loss
(1) and grad.<name> for every parameter (float32 unless --dtype float64 ... keeps them float64).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lmu_torch  # noqa: E402


def load_model(args):
    if args.checkpoint:
        with open(os.path.join(args.checkpoint, "state.json")) as f:
            state = json.load(f)
        cfg = lmu_torch.model_config(args.config and open(args.config).read() or state["config"])
        weights = os.path.join(args.checkpoint, "model.safetensors")
    else:
        if not (args.config and args.weights):
            raise SystemExit("run_model.py: give --checkpoint DIR, or --config FILE and --weights FILE")
        cfg = lmu_torch.model_config(open(args.config).read())
        weights = args.weights
    model = lmu_torch.CtcModel(cfg)
    lmu_torch.load_weights(model, weights)
    return model


def load_batch(path):
    arrays, _ = lmu_torch.read_safetensors(path)
    ints = {k: torch.from_numpy(np.rint(arrays[k]).astype(np.int64)) for k in ("lengths", "targets", "target_lengths")}
    return torch.from_numpy(arrays["features"].astype(np.float64)), ints["lengths"], ints["targets"], ints["target_lengths"]


def run(model, batch, dtype):
    """Forward and backward; returns (log_probs, out_lengths, loss, {name: grad})."""
    model = model.to(dtype).eval()
    model.zero_grad()
    features, lengths, targets, target_lengths = batch
    log_probs, out_lengths = model(features.to(dtype), lengths)
    loss = model.loss(log_probs, out_lengths, targets, target_lengths)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    return log_probs.detach(), out_lengths, loss.detach(), grads


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", help="engine checkpoint directory (model.safetensors + state.json)")
    ap.add_argument("--config", help="YAML config (overrides the checkpoint's)")
    ap.add_argument("--weights", help="model.safetensors (with --config)")
    ap.add_argument("--batch", required=True)
    ap.add_argument("--out", help="write log_probs, out_lengths, loss, grad.<name> here (safetensors)")
    ap.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    log_probs, out_lengths, loss, grads = run(load_model(args), load_batch(args.batch), dtype)
    print(f"loss {loss.item():.9g}  (output frames {out_lengths.tolist()}, log_probs {tuple(log_probs.shape)})")
    for name, g in grads.items():
        print(f"  grad {name:50s} norm {g.norm().item():.9g}")
    if args.out:
        keep = np.float64 if args.dtype == "float64" else np.float32
        out = {"log_probs": log_probs.numpy().astype(keep), "out_lengths": out_lengths.numpy().astype(np.int64),
               "loss": loss.reshape(1).numpy().astype(keep)}
        out.update({"grad." + n: g.numpy().astype(keep) for n, g in grads.items()})
        lmu_torch.write_safetensors(args.out, out, {"torch": torch.__version__})
        print("wrote", args.out)


if __name__ == "__main__":
    main()
