#!/usr/bin/python3
"""Golden values for lmu.nn.lmu.LegendreStateSpace: zero-order-hold discretisation of the
Legendre delay system by scipy.signal.cont2discrete(..., method="zoh"), dt = 1 frame.

Writes src/test/resources/golden/lmu/zoh_d{order}_theta{theta}.json. Small orders store the full
discrete matrices; large orders store a subset that still pins every entry down in aggregate:
selected rows, the diagonal, Frobenius norms, and the products Abar @ v and Abar.T @ v with
v[i] = sin(i + 1).

Run with Debian's python3 (python3-scipy):  /usr/bin/python3 bench/reference/make_lmu_golden.py
"""
import json
import os

import numpy as np
from scipy.signal import cont2discrete

PAIRS = [(1, 1.0), (1, 0.5), (3, 2.0), (6, 10.0), (12, 50.0), (32, 20.0), (64, 100.0),
         (192, 400.0), (256, 1000.0)]
FULL_MAX_ORDER = 32
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "src", "test", "resources", "golden", "lmu")


def legendre_continuous(order):
    q = np.arange(order, dtype=np.float64)
    r = (2 * q + 1)[:, None]
    j, i = np.meshgrid(q, q)
    a = np.where(i < j, -1.0, (-1.0) ** (i - j + 1)) * r
    b = ((-1.0) ** q)[:, None] * r
    return a, b


def main():
    os.makedirs(OUT, exist_ok=True)
    for order, theta in PAIRS:
        a, b = legendre_continuous(order)
        c = np.ones((1, order))
        d = np.zeros((1,))
        ad, bd, _, _, _ = cont2discrete((a / theta, b / theta, c, d), dt=1.0, method="zoh")
        bd = bd[:, 0]
        v = np.sin(np.arange(order, dtype=np.float64) + 1.0)
        rec = {
            "order": order,
            "theta": theta,
            "scipy": __import__("scipy").__version__,
            "bbar": bd.tolist(),
            "abar_frobenius": float(np.linalg.norm(ad)),
            "abar_diag": np.diag(ad).tolist(),
            "abar_times_v": (ad @ v).tolist(),
            "abar_t_times_v": (ad.T @ v).tolist(),
            "spectral_radius": float(np.max(np.abs(np.linalg.eigvals(ad)))),
        }
        if order <= FULL_MAX_ORDER:
            rec["abar"] = ad.reshape(-1).tolist()
        else:
            rows = sorted({0, 1, order // 2, order - 2, order - 1})
            rec["abar_rows"] = {str(r): ad[r].tolist() for r in rows}
        name = "zoh_d%d_theta%s.json" % (order, ("%g" % theta).replace(".", "p"))
        with open(os.path.join(OUT, name), "w") as f:
            json.dump(rec, f, separators=(",", ":"))
            f.write("\n")
        print(name, "rho=%.12f" % rec["spectral_radius"])


if __name__ == "__main__":
    main()
