package lmu.backend.cuda;

import java.util.Objects;

/**
 * One named CPU-vs-CUDA comparison, run by {@link CudaSelfTest} ({@code check --parity}) and by the
 * JUnit parity test from the same list, so the two never drift apart. The body computes on the GPU
 * through {@link ParityRun}, computes the reference (CPU backend or float64 code), and reports each
 * output through {@link ParityRun#compare}; a check passes when every comparison is within
 * {@link Tolerance} and nothing threw.
 *
 * <p>Adding a check is one line in {@link CudaSelfTest#checks()}:
 *
 * <pre>{@code
 * checks.add(ParityCheck.of("gelu 207", p -> {
 *     float[] x = p.randn(207, 2);
 *     DeviceBuffer in = p.upload(x), out = p.alloc(207);
 *     CudaKernels.geluForward(p.ctx(), out.ptr(), in.ptr(), 207);
 *     p.compare("y", p.download(out, 207), referenceGelu(x), 1, Tolerance.F32);
 * }));
 * }</pre>
 *
 * @param name what is checked, with its sizes, e.g. {@code "softmax fwd+bwd 13x29"}; unique in the list
 * @param body the check
 */
public record ParityCheck(String name, Body body) {
    /** The body of a check: runs on the GPU of {@code p} and calls {@link ParityRun#compare} for each output. */
    @FunctionalInterface
    public interface Body {
        void run(ParityRun p);
    }

    public ParityCheck {
        Objects.requireNonNull(name, "ParityCheck: name");
        Objects.requireNonNull(body, "ParityCheck: body");
        if (name.isBlank()) throw new IllegalArgumentException("ParityCheck: name must not be blank");
    }

    /** A check named {@code name}. */
    public static ParityCheck of(String name, Body body) {
        return new ParityCheck(name, body);
    }
}
