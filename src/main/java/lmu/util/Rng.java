package lmu.util;

/**
 * Seeded random numbers. A stream ({@link #nextDouble}, {@link #nextGaussian}) for initialisation
 * and shuffling, and a counter-based {@link #uniform(long, long)} for dropout masks: element i of a
 * mask depends only on (seed, i), so masks can be regenerated in backward, computed in parallel and
 * reproduced by a GPU kernel.
 */
public final class Rng {
    private long state;
    private double spareGaussian = Double.NaN;

    public Rng(long seed) {
        this.state = mix(seed ^ 0x9E3779B97F4A7C15L);
    }

    /** An independent stream derived from this seed and a label (e.g. a layer index). */
    public static Rng derive(long seed, long label) {
        return new Rng(mix(seed * 0x632BE59BD9B4E019L + label));
    }

    public long state() {
        return state;
    }

    /** Restores a state saved by {@link #state()} (checkpoints). */
    public void setState(long s) {
        this.state = s;
        this.spareGaussian = Double.NaN;
    }

    public long nextLong() {
        state += 0x9E3779B97F4A7C15L;
        return mix(state);
    }

    /** Uniform in [0, 1) with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Uniform integer in [0, bound). */
    public int nextInt(int bound) {
        Checks.positive("bound", bound);
        return (int) Math.floorMod(nextLong() >>> 1, (long) bound);
    }

    /** Standard normal (Box–Muller, one spare kept). */
    public double nextGaussian() {
        if (!Double.isNaN(spareGaussian)) {
            double g = spareGaussian;
            spareGaussian = Double.NaN;
            return g;
        }
        double u1;
        do {
            u1 = nextDouble();
        } while (u1 <= 0);
        double u2 = nextDouble();
        double r = Math.sqrt(-2 * Math.log(u1));
        spareGaussian = r * Math.sin(2 * Math.PI * u2);
        return r * Math.cos(2 * Math.PI * u2);
    }

    /** In-place Fisher–Yates shuffle. */
    public void shuffle(int[] a) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** Counter-based uniform in [0, 1): a pure function of (seed, counter). */
    public static double uniform(long seed, long counter) {
        return (bits(seed, counter) >>> 11) * 0x1.0p-53;
    }

    /** 64 random bits as a pure function of (seed, counter): one SplitMix64 finalisation of a Weyl step. */
    public static long bits(long seed, long counter) {
        return mix(seed + (counter + 1) * 0x9E3779B97F4A7C15L);
    }

    /** SplitMix64 finaliser. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
