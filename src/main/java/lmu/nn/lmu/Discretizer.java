package lmu.nn.lmu;

/** How the continuous Legendre system θ·ṁ = A m + B u is turned into a per-frame update. */
public enum Discretizer {
    /** Zero-order hold, dt = 1 frame: [[Ā, B̄], [0, 1]] = exp([[A/θ, B/θ], [0, 0]]). Exact for piecewise-constant input. */
    ZOH,
    /** Forward Euler, dt = 1 frame: Ā = I + A/θ, B̄ = B/θ. Cheap, stable only for θ large against the order. */
    EULER
}
