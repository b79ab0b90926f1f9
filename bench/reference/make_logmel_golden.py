#!/usr/bin/python3
"""Golden log-mel features for LogMelTest, from torchaudio (Debian python3-torchaudio).

Reference convention (what lmu.speech.features.LogMel implements):
    torchaudio.transforms.MelSpectrogram(sample_rate=16000, n_fft=400, win_length=400,
        hop_length=160, n_mels=80, power=2.0)   # periodic Hann, center=True, reflect pad,
                                                # HTK mel scale, no filter normalisation
    followed by torch.log(mel + 1e-6)
computed in float64, with the Hann window itself made in float64 (torch.hann_window in float32
cast to float64 perturbs weak bins by up to 6e-5 in the log); the plain float32 result is also
compared and its deviation recorded.

Writes, for each signal NAME, into src/test/resources/golden/features/:
    NAME.json          header: sample count, frame count, n_mels, config, float32-vs-float64 deviation
    NAME.input.f32     the 16 kHz input samples, little-endian float32
    NAME.logmel.f32    the log-mel features, shape (frames, n_mels) row-major, little-endian float32
Run from the repository root:  /usr/bin/python3 bench/reference/make_logmel_golden.py
"""
import json
import os
import struct
import wave

import torch
import torchaudio

OUT = "src/test/resources/golden/features"
SPEECH = "/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav"
EPS = 1e-6


def chirp_plus_noise():
    # 0.5 s + 77 samples (not a whole number of hops): linear chirp 100 Hz -> 7 kHz plus white noise
    n = 8077
    t = torch.arange(n, dtype=torch.float64) / 16000
    f0, f1, dur = 100.0, 7000.0, n / 16000
    phase = 2 * torch.pi * (f0 * t + (f1 - f0) * t * t / (2 * dur))
    g = torch.Generator().manual_seed(1234)
    noise = torch.randn(n, generator=g, dtype=torch.float64)
    return (0.3 * torch.sin(phase) + 0.01 * noise).float()


def speech_clip():
    # 1 s of real speech (LibriVox reading, pocketsphinx-testdata), from 0.5 s into the file
    with wave.open(SPEECH, "rb") as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2
        w.setpos(8000)
        raw = w.readframes(16000)
    pcm = struct.unpack("<%dh" % (len(raw) // 2), raw)
    return torch.tensor(pcm, dtype=torch.float32) / 32768.0


def logmel(x, dtype):
    def window(n):
        return torch.hann_window(n, periodic=True, dtype=dtype)
    t = torchaudio.transforms.MelSpectrogram(sample_rate=16000, n_fft=400, win_length=400,
                                             hop_length=160, n_mels=80, power=2.0,
                                             window_fn=window).to(dtype)
    return torch.log(t(x.to(dtype)) + EPS).T.contiguous()  # (frames, n_mels)


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, x in (("chirp_noise", chirp_plus_noise()), ("speech_1s", speech_clip())):
        ref = logmel(x, torch.float64)
        f32 = logmel(x, torch.float32).double()
        dev = (ref - f32).abs().max().item()
        with open(f"{OUT}/{name}.input.f32", "wb") as f:
            f.write(x.numpy().astype("<f4").tobytes())
        with open(f"{OUT}/{name}.logmel.f32", "wb") as f:
            f.write(ref.float().numpy().astype("<f4").tobytes())
        header = {
            "samples": x.numel(), "frames": ref.shape[0], "n_mels": ref.shape[1],
            "sample_rate": 16000, "n_fft": 400, "win_length": 400, "hop_length": 160,
            "power": 2.0, "center": True, "pad_mode": "reflect", "mel_scale": "htk",
            "norm": None, "log_epsilon": EPS, "reference_dtype": "float64",
            "max_abs_dev_float32_torch": dev,
            "torch": torch.__version__, "torchaudio": torchaudio.__version__,
        }
        with open(f"{OUT}/{name}.json", "w") as f:
            json.dump(header, f, indent=1)
        print(name, tuple(ref.shape), "float32 torch deviates by", dev)


if __name__ == "__main__":
    main()
