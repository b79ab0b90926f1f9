#!/usr/bin/python3
"""Golden outputs of the whole model for lmu.parity.ModelParityTest (configs/seed.yaml and
configs/small.yaml), computed by the PyTorch reference (lmu_torch.py) in float64 from the weights
the engine initialises (written by lmu.parity.ModelParityFixture; run make_model_golden.sh, which
does both steps).

Writes src/test/resources/golden/model/<name>.batch.safetensors (the inputs: features (B, T, 80),
lengths, targets, target_lengths; a fixed numpy seed) and <name>.golden.safetensors, all float32:
  log_probs (B, T', V), out_lengths (B), loss (1)
  weight_norm.<p>  Frobenius norm of each loaded weight (tells the test its weights are the same)
  grad_norm.<p>    Frobenius norm of each gradient
  grad_index.<p>, grad_value.<p>   every entry of gradients up to 64 entries, else 48 fixed random ones
It also checks that the recurrent and parallel LMU forms agree on this batch.
"""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lmu_torch  # noqa: E402
import run_model  # noqa: E402

ROOT = os.path.join(HERE, "..", "..")
OUT = os.path.join(ROOT, "src", "test", "resources", "golden", "model")
CASES = {"seed": 101, "small": 102}
LENGTHS = [60, 47]
LABELS = [9, 6]
SAMPLES = 48


def make_batch(seed, input_dim, vocab):
    r = np.random.RandomState(seed)
    b, t = len(LENGTHS), max(LENGTHS)
    feats = r.standard_normal((b, t, input_dim)).astype(np.float32)
    for i, n in enumerate(LENGTHS):
        feats[i, n:] = 0
    targets = np.zeros((b, max(LABELS)), dtype=np.float32)
    for i, n in enumerate(LABELS):
        targets[i, :n] = r.randint(1, vocab, size=n)
    return {"features": feats, "lengths": np.array(LENGTHS, np.float32), "targets": targets,
            "target_lengths": np.array(LABELS, np.float32)}


def main():
    weights_dir = sys.argv[1]
    torch.set_num_threads(2)
    os.makedirs(OUT, exist_ok=True)
    for name, seed in CASES.items():
        cfg = lmu_torch.model_config(open(os.path.join(ROOT, "configs", name + ".yaml")).read())
        model = lmu_torch.CtcModel(cfg)
        lmu_torch.load_weights(model, os.path.join(weights_dir, name + ".safetensors"))
        batch_np = make_batch(seed, cfg["input_dim"], len(cfg["vocabulary"]) + 1)
        batch_path = os.path.join(OUT, name + ".batch.safetensors")
        lmu_torch.write_safetensors(batch_path, batch_np, {"made_by": "bench/reference/make_model_golden.py"})
        batch = run_model.load_batch(batch_path)
        log_probs, out_lengths, loss, grads = run_model.run(model, batch, torch.float64)

        # self-check: both LMU forms give the same layer output on this batch
        with torch.no_grad():
            lmu = model.encoder.blocks[0].lmu
            x = torch.randn(2, max(LENGTHS), cfg["hidden"], dtype=torch.float64)
            lens = torch.tensor(LENGTHS)
            diff = (lmu(x, lens, "parallel") - lmu(x, lens, "recurrent")).abs().max().item()
            assert diff < 1e-10, f"parallel and recurrent LMU differ by {diff}"

        out = {"log_probs": log_probs.numpy().astype(np.float32),
               "out_lengths": out_lengths.numpy().astype(np.float32),
               "loss": loss.reshape(1).numpy().astype(np.float32)}
        r = np.random.RandomState(seed + 1000)
        for pname, p in model.named_parameters():
            g = grads[pname].numpy().reshape(-1)
            out["weight_norm." + pname] = np.array([p.detach().norm().item()], np.float32)
            out["grad_norm." + pname] = np.array([np.linalg.norm(g)], np.float32)
            idx = np.arange(g.size) if g.size <= 64 else np.sort(r.choice(g.size, SAMPLES, replace=False))
            out["grad_index." + pname] = idx.astype(np.float32)
            out["grad_value." + pname] = g[idx].astype(np.float32)
        path = os.path.join(OUT, name + ".golden.safetensors")
        lmu_torch.write_safetensors(path, out, {"torch": torch.__version__, "dtype": "float64",
                                                "config": "configs/%s.yaml" % name})
        print(f"{name}: loss {loss.item():.8f}, output frames {out_lengths.tolist()}, "
              f"LMU parallel/recurrent max diff {diff:.2e}; wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
