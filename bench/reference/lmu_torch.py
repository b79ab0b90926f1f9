"""An independent PyTorch implementation of lmu.nn.CtcModel (the architecture of configs/*.yaml).

Written from the definitions (DESIGN.md section 1, the javadoc of lmu.nn and lmu.nn.lmu), not from
the Java code paths, so that the two can check each other:

  encoder.input      Linear(input_dim -> C), dropout
  encoder.blocks.i   LMU and attention sub-blocks (order: model.block_order), optional feed-forward;
                     pre-LN: x + drop(f(norm(x)));  post-LN: norm(x + drop(f(x)));
                     without lmu_residual the LMU sub-block is drop(lmu(norm(x))) / norm(drop(lmu(x)))
  encoder.downsample.j   padded frames zeroed, Conv1d(C, C, kernel, stride, padding), exact lengths
  encoder.final_norm     pre-LN only
  head               Linear(C -> V); CTC over log-softmax, blank 0

LMU (Voelker et al. 2019, keras-lmu terms), memory layout channel k*d + i:
  u_t = x_t e_x (+ h_{t-1} e_h) (+ m_{t-1} e_m) (+ b_u)        (K channels)
  m_t = Abar m_{t-1} + Bbar u_t                               (each channel, order d)
  h_t = f(x_t W_x (+ h_{t-1} W_h) + m_t W_m (+ b_h))
with theta*dm/dt = A m + B u, A[i][j] = (2i+1)(-1 if i<j else (-1)^(i-j+1)), B[i] = (2i+1)(-1)^i,
discretised by zero-order hold (matrix exponential of the augmented matrix [[A, B], [0, 0]] / theta,
dt = 1 frame) or Euler (I + A/theta, B/theta). Frames t >= length are padding: inputs there are
ignored, h and m are zero there, and the state does not advance. In parallel mode (no feedback)
m is the causal convolution of u with the impulse response H[j] = Abar^j Bbar (by FFT).

Attention: q = (x Wq^T + bq) / sqrt(C/H); keys t >= length get the score -1e4 (not -inf) before
the softmax.

Parameter names and shapes are those of the engine's checkpoints (model.safetensors), e.g.
encoder.blocks.0.lmu.wm (K*d, C), encoder.blocks.0.attention.query.weight (C, C).
"""
import json
import math
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MASK_VALUE = -1e4


# ----------------------------------------------------------------------------------------------
# config


def model_config(yaml_text_or_dict):
    """The model: section with every default of lmu.nn.ModelConfig filled in."""
    if isinstance(yaml_text_or_dict, str):
        import yaml
        root = yaml.safe_load(yaml_text_or_dict)
    else:
        root = yaml_text_or_dict
    m = dict(root.get("model", {}) or {})
    a = dict(m.get("attention", {}) or {})
    l = dict(m.get("lmu", {}) or {})
    d = dict(m.get("downsample", {}) or {})
    return {
        "input_dim": m.get("input_dim", 80),
        "hidden": m.get("hidden", 384),
        "blocks": m.get("blocks", 3),
        "lmu_first": m.get("block_order", "lmu_first") == "lmu_first",
        "pre_norm": m.get("norm", "pre") == "pre",
        "dropout": float(m.get("dropout", 0.1)),
        "feed_forward": m.get("feed_forward", 0),
        "lmu_residual": m.get("lmu_residual", True),
        "eps": float(m.get("layer_norm_eps", 1e-5)),
        "heads": a.get("heads", 6),
        "attention_dropout": float(a.get("dropout", 0.1)),
        "lmu": {
            "order": l.get("memory_order", 192),
            "theta": float(l.get("theta", 200)),
            "memory_d": l.get("memory_d", 1),
            "parallel": l.get("mode", "parallel") == "parallel",
            "discretizer": l.get("discretizer", "zoh"),
            "activation": l.get("activation", "tanh"),
            "hidden_to_memory": l.get("hidden_to_memory", False),
            "memory_to_memory": l.get("memory_to_memory", False),
            "input_to_hidden": l.get("input_to_hidden", False),
            "hidden_to_hidden": l.get("hidden_to_hidden", False),
            "memory_bias": l.get("memory_bias", False),
            "hidden_bias": l.get("hidden_bias", True),
        },
        "downsample_after": list(d.get("after", [1])),
        "kernel": d.get("kernel", 3),
        "stride": d.get("stride", 2),
        "padding": d.get("padding", 1),
        "vocabulary": m.get("vocabulary", " 'abcdefghijklmnopqrstuvwxyz"),
    }


def frame_mask(lengths, frames, dtype):
    """(B, T, 1): 1 at valid frames, 0 at padding."""
    t = torch.arange(frames, device=lengths.device)
    return (t[None, :] < lengths[:, None]).to(dtype)[:, :, None]


# ----------------------------------------------------------------------------------------------
# LMU


def legendre_system(order, theta, discretizer):
    """(Abar (d, d), Bbar (d)) in float64."""
    q = torch.arange(order, dtype=torch.float64)
    i, j = q[:, None], q[None, :]
    sign = torch.where(i < j, torch.tensor(-1.0, dtype=torch.float64), (-1.0) ** (i - j + 1))
    a = (2 * i + 1) * sign
    b = (2 * q + 1) * (-1.0) ** q
    if discretizer == "euler":
        return torch.eye(order, dtype=torch.float64) + a / theta, b / theta
    aug = torch.zeros(order + 1, order + 1, dtype=torch.float64)
    aug[:order, :order] = a / theta
    aug[:order, order] = b / theta
    e = torch.matrix_exp(aug)
    return e[:order, :order].clone(), e[:order, order].clone()


class Lmu(nn.Module):
    """One LMU layer, input width C, hidden width C (the encoder's use)."""

    def __init__(self, channels, cfg):
        super().__init__()
        self.cfg = cfg
        c, k, d = channels, cfg["memory_d"], cfg["order"]
        self.k, self.d = k, d
        w = k * d

        def p(*shape):
            return nn.Parameter(torch.zeros(*shape))

        self.ex = p(c, k)
        if cfg["hidden_to_memory"]:
            self.eh = p(c, k)
        if cfg["memory_to_memory"]:
            self.em = p(w, k)
        if cfg["memory_bias"]:
            self.bu = p(k)
        if cfg["input_to_hidden"]:
            self.wx = p(c, c)
        if cfg["hidden_to_hidden"]:
            self.wh = p(c, c)
        self.wm = p(w, c)
        if cfg["hidden_bias"]:
            self.bh = p(c)
        abar, bbar = legendre_system(d, cfg["theta"], cfg["discretizer"])
        self.register_buffer("abar", abar, persistent=False)
        self.register_buffer("bbar", bbar, persistent=False)
        self.feedback = cfg["hidden_to_memory"] or cfg["memory_to_memory"] or cfg["hidden_to_hidden"]
        self.parallel = cfg["parallel"] and not self.feedback
        self._ir = {}

    def act(self, a):
        f = self.cfg["activation"]
        return torch.tanh(a) if f == "tanh" else torch.relu(a) if f == "relu" else a

    def impulse_response(self, frames, dtype):
        """H (T, d) with H[j] = Abar^j Bbar, float64 recursion, cached per (T, dtype)."""
        key = (frames, dtype)
        if key not in self._ir:
            h = torch.empty(frames, self.d, dtype=torch.float64)
            v = self.bbar.to(torch.float64)
            a = self.abar.to(torch.float64)
            for t in range(frames):
                h[t] = v
                v = a @ v
            self._ir[key] = h.to(dtype)
        return self._ir[key]

    def forward(self, x, lengths, mode=None):
        parallel = self.parallel if mode is None else (mode == "parallel")
        if parallel and self.feedback:
            raise ValueError("Lmu: parallel mode needs a config without feedback")
        mask = frame_mask(lengths, x.shape[1], x.dtype)
        x = x * mask
        return (self._parallel(x, mask) if parallel else self._recurrent(x, lengths, mask)) * mask

    def _parallel(self, x, mask):
        bsz, frames, _ = x.shape
        u = x @ self.ex
        if hasattr(self, "bu"):
            u = u + self.bu
        u = u * mask
        hr = self.impulse_response(frames, x.dtype)                    # (T, d)
        n = 1 << (2 * frames - 1).bit_length()
        uf = torch.fft.rfft(u, n=n, dim=1)                             # (B, n/2+1, K)
        hf = torch.fft.rfft(hr, n=n, dim=0)                            # (n/2+1, d)
        m = torch.fft.irfft(uf[:, :, :, None] * hf[None, :, None, :], n=n, dim=1)[:, :frames]
        m = m.reshape(bsz, frames, self.k * self.d) * mask             # (B, T, K*d), channel k*d + i
        a = m @ self.wm
        if hasattr(self, "wx"):
            a = a + x @ self.wx
        if hasattr(self, "bh"):
            a = a + self.bh
        return self.act(a)

    def _recurrent(self, x, lengths, mask):
        bsz, frames, _ = x.shape
        k, d = self.k, self.d
        abar, bbar = self.abar.to(x.dtype), self.bbar.to(x.dtype)
        h = x.new_zeros(bsz, self.wm.shape[1])
        m = x.new_zeros(bsz, k, d)
        outs = []
        for t in range(frames):
            valid = mask[:, t]                                          # (B, 1)
            u = x[:, t] @ self.ex
            if hasattr(self, "eh"):
                u = u + h @ self.eh
            if hasattr(self, "em"):
                u = u + m.reshape(bsz, k * d) @ self.em
            if hasattr(self, "bu"):
                u = u + self.bu
            m_new = m @ abar.T + u[:, :, None] * bbar
            a = m_new.reshape(bsz, k * d) @ self.wm
            if hasattr(self, "wx"):
                a = a + x[:, t] @ self.wx
            if hasattr(self, "wh"):
                a = a + h @ self.wh
            if hasattr(self, "bh"):
                a = a + self.bh
            h_new = self.act(a)
            # padding: the state does not advance
            m = valid[:, :, None] * m_new + (1 - valid[:, :, None]) * m
            h = valid * h_new + (1 - valid) * h
            outs.append(h_new)
        return torch.stack(outs, dim=1)


# ----------------------------------------------------------------------------------------------
# attention, blocks, model


class Attention(nn.Module):
    def __init__(self, channels, heads, dropout):
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(channels, channels)
        self.key = nn.Linear(channels, channels)
        self.value = nn.Linear(channels, channels)
        self.output = nn.Linear(channels, channels)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, lengths):
        bsz, frames, c = x.shape
        h, d = self.heads, c // self.heads

        def split(t):
            return t.reshape(bsz, frames, h, d).transpose(1, 2)        # (B, H, T, d)

        q = split(self.query(x) / math.sqrt(d))
        k = split(self.key(x))
        v = split(self.value(x))
        scores = q @ k.transpose(-1, -2)                                # (B, H, T, T)
        pad = torch.arange(frames, device=x.device)[None, :] >= lengths[:, None]
        scores = scores.masked_fill(pad[:, None, None, :], MASK_VALUE)
        w = self.dropout(torch.softmax(scores, dim=-1))
        ctx = (w @ v).transpose(1, 2).reshape(bsz, frames, c)
        return self.output(ctx)


class FeedForward(nn.Module):
    def __init__(self, channels, width, dropout):
        super().__init__()
        setattr(self, "in", nn.Linear(channels, width))
        self.out = nn.Linear(width, channels)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.out(self.dropout(F.gelu(getattr(self, "in")(x))))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c, eps = cfg["hidden"], cfg["eps"]
        self.cfg = cfg
        self.lmu = Lmu(c, cfg["lmu"])
        self.lmu_norm = nn.LayerNorm(c, eps=eps)
        self.attention = Attention(c, cfg["heads"], cfg["attention_dropout"])
        self.attention_norm = nn.LayerNorm(c, eps=eps)
        if cfg["feed_forward"] > 0:
            self.feed_forward = FeedForward(c, cfg["feed_forward"], cfg["dropout"])
            self.feed_forward_norm = nn.LayerNorm(c, eps=eps)
        self.dropout = nn.Dropout(cfg["dropout"])

    def forward(self, x, lengths):
        pre = self.cfg["pre_norm"]
        subs = [self._lmu, self._attention] if self.cfg["lmu_first"] else [self._attention, self._lmu]
        for f in subs:
            x = f(x, lengths, pre)
        if self.cfg["feed_forward"] > 0:
            ff, n = self.feed_forward, self.feed_forward_norm
            x = x + self.dropout(ff(n(x))) if pre else n(x + self.dropout(ff(x)))
        return x

    def _attention(self, x, lengths, pre):
        if pre:
            return x + self.dropout(self.attention(self.attention_norm(x), lengths))
        return self.attention_norm(x + self.dropout(self.attention(x, lengths)))

    def _lmu(self, x, lengths, pre):
        y = self.dropout(self.lmu(self.lmu_norm(x) if pre else x, lengths))
        if self.cfg["lmu_residual"]:
            y = x + y
        return y if pre else self.lmu_norm(y)


class Downsample(nn.Module):
    def __init__(self, channels, kernel, stride, padding):
        super().__init__()
        self.kernel, self.stride, self.padding = kernel, stride, padding
        self.weight = nn.Parameter(torch.zeros(channels, channels, kernel))
        self.bias = nn.Parameter(torch.zeros(channels))

    def out_lengths(self, lengths):
        return torch.div(lengths + 2 * self.padding - self.kernel, self.stride, rounding_mode="floor") + 1

    def forward(self, x, lengths):
        x = x * frame_mask(lengths, x.shape[1], x.dtype)
        y = F.conv1d(x.transpose(1, 2), self.weight, self.bias, stride=self.stride, padding=self.padding)
        return y.transpose(1, 2), self.out_lengths(lengths)


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c = cfg["hidden"]
        self.cfg = cfg
        self.input = nn.Linear(cfg["input_dim"], c)
        self.dropout = nn.Dropout(cfg["dropout"])
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg["blocks"])])
        self.downsample = nn.ModuleList(
            [Downsample(c, cfg["kernel"], cfg["stride"], cfg["padding"]) for _ in cfg["downsample_after"]])
        if cfg["pre_norm"]:
            self.final_norm = nn.LayerNorm(c, eps=cfg["eps"])

    def forward(self, x, lengths):
        x = self.dropout(self.input(x))
        j = 0
        for i in range(self.cfg["blocks"] + 1):
            if i > 0:
                x = self.blocks[i - 1](x, lengths)
            for after in self.cfg["downsample_after"]:
                if after == i:
                    x, lengths = self.downsample[j](x, lengths)
                    j += 1
        if self.cfg["pre_norm"]:
            x = self.final_norm(x)
        return x, lengths


class CtcModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.head = nn.Linear(cfg["hidden"], len(cfg["vocabulary"]) + 1)

    def forward(self, features, lengths):
        """features (B, T, input_dim), lengths (B) -> log-probabilities (B, T', V), lengths (B)."""
        x, lengths = self.encoder(features, lengths)
        return torch.log_softmax(self.head(x), dim=-1), lengths

    def loss(self, log_probs, lengths, targets, target_lengths):
        """CTC, blank 0, each loss divided by its target length, batch mean (the engine's MEAN), zero_infinity."""
        return F.ctc_loss(log_probs.transpose(0, 1), targets, lengths, target_lengths, blank=0,
                          reduction="mean", zero_infinity=True)


def init_like_engine(model, seed=0):
    """Random weights for benchmarks when no checkpoint is given (ranges as the engine's init)."""
    g = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        with torch.no_grad():
            if name.endswith("norm.weight"):
                p.fill_(1)
            elif p.dim() == 1:
                p.zero_()
            else:
                bound = 1 / math.sqrt(p.shape[-1] if "lmu" not in name else p.shape[0])
                p.uniform_(-bound, bound, generator=g)


# ----------------------------------------------------------------------------------------------
# safetensors (no dependency on the safetensors package)

_DTYPES = {"F32": (np.float32, 4), "F64": (np.float64, 8), "I32": (np.int32, 4), "I64": (np.int64, 8)}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out, meta = {}, header.pop("__metadata__", {})
    for name, e in header.items():
        dt, width = _DTYPES[e["dtype"]]
        b, end = e["data_offsets"]
        out[name] = np.frombuffer(data[b:end], dtype=dt).reshape(e["shape"]).copy()
    return out, meta


def write_safetensors(path, arrays, metadata=None):
    names = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int32): "I32",
             np.dtype(np.int64): "I64"}
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name, a in arrays.items():
        a = np.ascontiguousarray(a)
        raw = a.tobytes()
        header[name] = {"dtype": names[a.dtype], "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for raw in blobs:
            f.write(raw)


def load_weights(model, path):
    """Copies every parameter from an engine model.safetensors by name; names and shapes must match exactly."""
    arrays, _ = read_safetensors(path)
    params = dict(model.named_parameters())
    missing = sorted(set(params) - set(arrays))
    extra = sorted(set(arrays) - set(params))
    if missing or extra:
        raise ValueError(f"{path}: missing {missing}, unexpected {extra}")
    with torch.no_grad():
        for name, p in params.items():
            a = arrays[name]
            if tuple(a.shape) != tuple(p.shape):
                raise ValueError(f"{path}: {name} has shape {a.shape}, the model expects {tuple(p.shape)}")
            p.copy_(torch.from_numpy(a.astype(np.float64)))
