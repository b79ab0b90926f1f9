"""PyTorch side of bench/gemm_side_by_side.sh: median GFLOP/s of torch.mm on float32.

Usage: /usr/bin/python3 bench/reference/gemm_torch.py --threads 2 [--reps 20] [--warmup-s 1.5] 3200x384x384 ...
Prints "shape median_gflops implementation" per shape, like lmu.bench.GemmSideBySide.
"""
import argparse
import time

import torch


def median_gflops(m, n, k, reps, warmup_s):
    g = torch.Generator().manual_seed(1)
    a = torch.rand(m, k, generator=g, dtype=torch.float32)
    b = torch.rand(k, n, generator=g, dtype=torch.float32)
    c = torch.empty(m, n, dtype=torch.float32)
    end = time.perf_counter() + warmup_s
    while True:
        torch.mm(a, b, out=c)
        if time.perf_counter() >= end:
            break
    seconds = []
    for _ in range(reps):
        t0 = time.perf_counter()
        torch.mm(a, b, out=c)
        seconds.append(time.perf_counter() - t0)
    seconds.sort()
    # 2*m*n*k FLOP: k multiplies and k adds for each of the m*n outputs
    return 2.0 * m * n * k / seconds[reps // 2] * 1e-9


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--reps", type=int, default=20)
    p.add_argument("--warmup-s", type=float, default=1.5)
    p.add_argument("shapes", nargs="*", default=["3200x384x384", "2048x2048x2048"])
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    impl = "PyTorch_%s_(%d_threads)" % (torch.__version__, torch.get_num_threads())
    for shape in args.shapes:
        m, k, n = (int(x) for x in shape.split("x"))  # A is m x k, B is k x n
        print("%s %.2f %s" % (shape, median_gflops(m, n, k, args.reps, args.warmup_s), impl), flush=True)


if __name__ == "__main__":
    main()
