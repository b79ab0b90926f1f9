#!/usr/bin/python3
"""Runs the CPU emulation of kernels/logmel.cu against torchaudio's MelSpectrogram in float64, with
the launch geometry and argument order of lmu.backend.cuda.kernels.CudaLogMel (tables as
LogMelTables builds them). Development only:

    kernels/dev/emu/build.sh logmel && /usr/bin/python3 kernels/dev/emu/check_logmel.py

The real parity check runs on a GPU against the engine's LogMel: FeatureKernelChecks.
"""
import numpy as np
import torch
import torchaudio

from check_kernels import compare, f64, failures, i32, launch, ptr

THREADS = 256


def tables(n_fft, win, n_mels, f_min, f_max, sr):
    window = np.zeros(n_fft)
    start = (n_fft - win) // 2
    window[start:start + win] = torch.hann_window(win, periodic=True, dtype=torch.float64).numpy()
    j = np.arange(n_fft)
    n_bins = n_fft // 2 + 1
    fb = torchaudio.functional.melscale_fbanks(n_bins, f_min, f_max, n_mels, sr, norm=None, mel_scale="htk")
    mel = fb.double().numpy().T.copy()  # (n_mels, n_bins)
    first = np.array([np.nonzero(r)[0][0] if r.any() else 0 for r in mel], dtype=np.int32)
    end = np.array([np.nonzero(r)[0][-1] + 1 if r.any() else 0 for r in mel], dtype=np.int32)
    doubles = np.concatenate([window, np.cos(2 * np.pi * j / n_fft), np.sin(2 * np.pi * j / n_fft), mel.ravel()])
    return doubles, np.concatenate([first, end]).astype(np.int32)


def case(lengths, amplitude, n_fft=400, win=400, hop=160, n_mels=80, center=True, seed=0):
    sr, f_min, f_max, eps = 16000, 0.0, 8000.0, 1e-6
    rng = np.random.default_rng(seed)
    frames = [0 if n <= 0 else (1 + n // hop if center else (0 if n < n_fft else 1 + (n - n_fft) // hop)) for n in lengths]
    max_frames = max(1, max(frames))
    signal = (rng.standard_normal(sum(lengths)) * amplitude).astype(np.float32)
    offsets = np.cumsum([0] + lengths[:-1]).astype(np.int32)
    doubles, mel_range = tables(n_fft, win, n_mels, f_min, f_max, sr)
    out = np.full((len(lengths), max_frames, n_mels), np.nan, dtype=np.float32)
    shared = 8 * (3 * n_fft + n_fft // 2 + 1)
    lengths32, frames32 = np.array(lengths, dtype=np.int32), np.array(frames, dtype=np.int32)  # alive during the launch
    launch("logmel", "logmel_kernel", (max_frames, len(lengths)), THREADS, shared, ptr(out), ptr(signal), ptr(offsets),
           ptr(lengths32), ptr(frames32), ptr(doubles), ptr(mel_range),
           i32(n_fft), i32(hop), i32(n_fft // 2 if center else 0), i32(n_fft // 2 + 1), i32(n_mels), i32(max_frames), f64(eps))
    ref = np.zeros_like(out, dtype=np.float64)
    spec = torchaudio.transforms.MelSpectrogram(sample_rate=sr, n_fft=n_fft, win_length=win, hop_length=hop, n_mels=n_mels,
                                                f_min=f_min, f_max=f_max, power=2.0, center=center, pad_mode="reflect",
                                                norm=None, mel_scale="htk").double()
    for b, n in enumerate(lengths):
        if frames[b] == 0:
            continue
        x = torch.from_numpy(signal[offsets[b]:offsets[b] + n].astype(np.float64))
        if n > n_fft // 2 or not center:
            ref[b, :frames[b]] = torch.log(spec(x) + eps).T.numpy()[:frames[b]]
        else:
            ref[b, :frames[b]] = np.nan  # torch cannot reflect-pad by more than the signal (the GPU check covers it)
    keep = ~np.isnan(ref)
    compare(f"logmel lengths {lengths} amp {amplitude} center {center}", out[keep], ref[keep], n_fft)


if __name__ == "__main__":
    case([1601, 3200, 0, 2413], 1.0)
    case([4000, 800], 3e4, seed=1)
    case([512, 4096, 1000], 1.0, n_fft=512, n_mels=64, center=False, seed=2)
    print("logmel: " + ("FAILED " + "; ".join(failures) if failures else "all passed"))
    raise SystemExit(1 if failures else 0)
