package lmu.nn.lmu;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import lmu.util.Rng;

/**
 * The trainable arrays of one LMU layer, float64, each stored row-major as (fan_in, fan_out) so
 * that a product reads y = x·W. Arrays of options that are off are absent (null). The same class
 * holds gradients ({@link #zerosLike()}); parameter gradients accumulate with {@code +=}.
 *
 * <ul>
 *   <li>{@code ex} (C, K) input encoder — LeCun uniform U(±√(3/C))
 *   <li>{@code eh} (hidden, K) hidden encoder, if hiddenToMemory — LeCun uniform U(±√(3/hidden))
 *   <li>{@code em} (K·d, K) memory encoder, if memoryToMemory — zeros
 *   <li>{@code bu} (K) memory bias, if memoryBias — zeros
 *   <li>{@code wx} (C, hidden) input kernel, if inputToHidden — Glorot uniform U(±√(6/(C+hidden)))
 *   <li>{@code wh} (hidden, hidden) recurrent kernel, if hiddenToHidden — Glorot uniform
 *   <li>{@code wm} (K·d, hidden) memory kernel — Glorot uniform U(±√(6/(K·d+hidden)))
 *   <li>{@code bh} (hidden) hidden bias, if hiddenBias — zeros
 * </ul>
 *
 * <p>The encoders follow the original LMU (Voelker et al. 2019, the keras-lmu release of the
 * paper: LeCun-uniform encoders, memory encoder zero). Current keras-lmu draws its input kernel
 * from Glorot uniform and its recurrent encoders from an orthogonal initializer, and its kernels
 * come from the user's hidden cell (Keras Dense/SimpleRNN: Glorot uniform kernel, orthogonal
 * recurrent kernel, zero bias). Here every kernel, W_h included, is Glorot uniform.
 */
public final class LmuParameters {
    public double[] ex, eh, em, bu, wx, wh, wm, bh;
    private final LmuConfig config;

    private LmuParameters(LmuConfig config) {
        this.config = config;
    }

    /** All arrays present for the config, filled with zeros. */
    public static LmuParameters zeros(LmuConfig c) {
        LmuParameters p = new LmuParameters(c);
        int k = c.memoryD(), hid = c.hiddenSize(), in = c.inputSize(), w = c.memoryWidth();
        p.ex = new double[in * k];
        if (c.hiddenToMemory()) p.eh = new double[hid * k];
        if (c.memoryToMemory()) p.em = new double[w * k];
        if (c.memoryBias()) p.bu = new double[k];
        if (c.inputToHidden()) p.wx = new double[in * hid];
        if (c.hiddenToHidden()) p.wh = new double[hid * hid];
        p.wm = new double[w * hid];
        if (c.hiddenBias()) p.bh = new double[hid];
        return p;
    }

    /** Initialised as described in the class comment, from {@code new Rng(seed)}. */
    public static LmuParameters initialise(LmuConfig c, long seed) {
        return initialise(c, new Rng(seed));
    }

    /** Initialised as described in the class comment, drawing from r. */
    public static LmuParameters initialise(LmuConfig c, Rng r) {
        LmuParameters p = zeros(c);
        int k = c.memoryD(), hid = c.hiddenSize(), in = c.inputSize(), w = c.memoryWidth();
        uniform(p.ex, Math.sqrt(3.0 / in), r);
        if (p.eh != null) uniform(p.eh, Math.sqrt(3.0 / hid), r);
        if (p.wx != null) uniform(p.wx, Math.sqrt(6.0 / (in + hid)), r);
        if (p.wh != null) uniform(p.wh, Math.sqrt(6.0 / (hid + hid)), r);
        uniform(p.wm, Math.sqrt(6.0 / (w + hid)), r);
        return p;
    }

    private static void uniform(double[] a, double limit, Rng r) {
        for (int i = 0; i < a.length; i++) a[i] = (2 * r.nextDouble() - 1) * limit;
    }

    public LmuConfig config() {
        return config;
    }

    /**
     * Wraps existing arrays (not copied) as parameters of config c.
     *
     * @param arrays by name as in {@link #arrays()}; exactly the names the config needs
     * @throws IllegalArgumentException if a name is missing or extra, or an array has the wrong size
     */
    public static LmuParameters wrap(LmuConfig c, Map<String, double[]> arrays) {
        LmuParameters p = zeros(c);
        if (!arrays.keySet().equals(p.arrays().keySet())) {
            throw new IllegalArgumentException("LmuParameters: expected arrays " + p.arrays().keySet() + ", got "
                    + arrays.keySet());
        }
        for (Map.Entry<String, double[]> e : arrays.entrySet()) {
            int n = p.arrays().get(e.getKey()).length;
            if (e.getValue().length != n) {
                throw new IllegalArgumentException("LmuParameters: " + e.getKey() + " must have shape "
                        + java.util.Arrays.toString(p.shape(e.getKey())) + " (" + n + " values), got "
                        + e.getValue().length + " values");
            }
            p.set(e.getKey(), e.getValue());
        }
        return p;
    }

    private void set(String name, double[] a) {
        switch (name) {
            case "ex": ex = a; break;
            case "eh": eh = a; break;
            case "em": em = a; break;
            case "bu": bu = a; break;
            case "wx": wx = a; break;
            case "wh": wh = a; break;
            case "wm": wm = a; break;
            case "bh": bh = a; break;
            default: throw new IllegalArgumentException("LmuParameters: unknown parameter '" + name + "'");
        }
    }

    /** Same arrays present, all zero. */
    public LmuParameters zerosLike() {
        return zeros(config);
    }

    /** this += other, array by array. */
    public void addInPlace(LmuParameters other) {
        Map<String, double[]> mine = arrays(), theirs = other.arrays();
        for (Map.Entry<String, double[]> e : mine.entrySet()) {
            double[] a = e.getValue(), b = theirs.get(e.getKey());
            for (int i = 0; i < a.length; i++) a[i] += b[i];
        }
    }

    /** Present arrays by name, in a fixed order (ex, eh, em, bu, wx, wh, wm, bh). */
    public Map<String, double[]> arrays() {
        LinkedHashMap<String, double[]> m = new LinkedHashMap<>();
        put(m, "ex", ex);
        put(m, "eh", eh);
        put(m, "em", em);
        put(m, "bu", bu);
        put(m, "wx", wx);
        put(m, "wh", wh);
        put(m, "wm", wm);
        put(m, "bh", bh);
        return Collections.unmodifiableMap(m);
    }

    /** Shape of the named array, as listed in the class comment. */
    public int[] shape(String name) {
        LmuConfig c = config;
        switch (name) {
            case "ex": return new int[] {c.inputSize(), c.memoryD()};
            case "eh": return new int[] {c.hiddenSize(), c.memoryD()};
            case "em": return new int[] {c.memoryWidth(), c.memoryD()};
            case "bu": return new int[] {c.memoryD()};
            case "wx": return new int[] {c.inputSize(), c.hiddenSize()};
            case "wh": return new int[] {c.hiddenSize(), c.hiddenSize()};
            case "wm": return new int[] {c.memoryWidth(), c.hiddenSize()};
            case "bh": return new int[] {c.hiddenSize()};
            default: throw new IllegalArgumentException("LmuParameters: unknown parameter '" + name + "'");
        }
    }

    /** Names of present arrays. */
    public List<String> names() {
        return new ArrayList<>(arrays().keySet());
    }

    private static void put(Map<String, double[]> m, String name, double[] a) {
        if (a != null) m.put(name, a);
    }
}
