package lmu.backend;

import java.util.Arrays;
import lmu.tensor.Shape;
import lmu.tensor.Tensor;

/**
 * Shape checks shared by every {@link FusedKernels} implementation, so all devices refuse the same
 * arguments with the same messages ({@code "FusedKernels.<op>: <arg> must be <expected>, got <actual>"}).
 * Each implementation checks its own dtypes and device on top.
 */
public final class FusedKernelArguments {
    private FusedKernelArguments() {}

    /** Fails unless {@code ok}, naming op, argument, what was expected and what t is. */
    public static void check(boolean ok, String op, String arg, String expected, Tensor t) {
        if (!ok) {
            throw new IllegalArgumentException("FusedKernels." + op + ": " + arg + " must be " + expected + ", got "
                    + (t == null ? "null" : Shape.str(t.shape()) + " " + t.dtype() + " on " + t.device()));
        }
    }

    /** x has at least one axis (…, C). */
    public static void input(String op, String arg, Tensor x) {
        check(x != null && x.rank() > 0, op, arg, "a tensor of shape (…, C)", x);
    }

    /** t has like's shape, dtype and device. */
    public static void like(String op, String arg, Tensor t, Tensor like) {
        check(t != null && Arrays.equals(t.shape(), like.shape()) && t.dtype() == like.dtype()
                && t.device().equals(like.device()), op, arg, like.dtype() + " " + Shape.str(like.shape()) + " on "
                + like.device(), t);
    }

    /** t is null or a (C) vector of like's dtype and device, C = like's last axis. */
    public static void vector(String op, String arg, Tensor t, Tensor like) {
        if (t == null) return;
        int c = like.dim(-1);
        check(t.rank() == 1 && t.dim(0) == c && t.dtype() == like.dtype() && t.device().equals(like.device()), op, arg,
                like.dtype() + " (" + c + ") on " + like.device(), t);
    }

    /** The saved row statistics of a layer norm of s: (rows) each, s's dtype and device. */
    public static void rowStatistics(String op, Tensor mean, Tensor rstd, Tensor s) {
        int rows = s.dim(-1) == 0 ? 0 : s.numel() / s.dim(-1);
        for (Tensor t : new Tensor[] {mean, rstd}) {
            check(t != null && t.numel() == rows && t.dtype() == s.dtype() && t.device().equals(s.device()), op,
                    t == mean ? "mean" : "rstd", s.dtype() + " (" + rows + ") on " + s.device(), t);
        }
    }
}
