#!/usr/bin/python3
"""torchaudio half of logmel_side_by_side.sh: MelSpectrogram + log on 100 x 4 s at 16 kHz.

Times both the batched call (one (100, 64000) tensor) and a loop over utterances, float32, with
torch.set_num_threads(THREADS); median and min of 25 runs after 5 warm-up runs.
Usage: /usr/bin/python3 bench/reference/logmel_side_by_side.py [threads] [utterances] [seconds]
"""
import statistics
import sys
import time

import torch
import torchaudio


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 4.0
    torch.set_num_threads(threads)
    n = round(seconds * 16000)
    g = torch.Generator().manual_seed(42)
    x = 0.1 * torch.randn(count, n, generator=g)
    mel = torchaudio.transforms.MelSpectrogram(sample_rate=16000, n_fft=400, win_length=400,
                                               hop_length=160, n_mels=80, power=2.0)

    def batched():
        return torch.log(mel(x) + 1e-6)

    def loop():
        return [torch.log(mel(u) + 1e-6) for u in x]

    for name, fn in (("batched", batched), ("loop", loop)):
        times = []
        with torch.inference_mode():
            for rep in range(30):
                t0 = time.perf_counter()
                fn()
                if rep >= 5:
                    times.append((time.perf_counter() - t0) * 1000)
        med = statistics.median(times)
        print(f"torchaudio MelSpectrogram+log ({name}): {count} x {seconds} s, {threads} threads: "
              f"median {med:.1f} ms, min {min(times):.1f} ms ({count * seconds * 1000 / med:.0f}x real time)")


if __name__ == "__main__":
    main()
