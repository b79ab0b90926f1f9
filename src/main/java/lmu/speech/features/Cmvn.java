package lmu.speech.features;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Cepstral (here: log-mel) mean and variance normalisation: {@code y[t][m] = (x[t][m] - mean[m])
 * / std[m]}, with {@code std[m] = sqrt(max(var[m], varianceFloor))}.
 *
 * <p>Two ways: per utterance ({@link #normalizeUtteranceInPlace}, statistics of the utterance
 * itself), or global (an instance holding dataset statistics, accumulated by {@link Accumulator}
 * over the training set and saved as JSON {@code {"dim":80,"frames":N,"mean":[..],"std":[..]}}).
 * Variances are population variances (divided by the frame count).
 */
public final class Cmvn {
    /** Smallest variance used, so that constant bins do not divide by zero. */
    public static final double VARIANCE_FLOOR = 1e-10;
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create();

    private final double[] mean, std;
    private final long frames;

    /**
     * @param mean per-bin mean, shape (C,)
     * @param std per-bin standard deviation, shape (C,), all > 0
     * @param frames number of frames the statistics came from (informational)
     */
    public Cmvn(double[] mean, double[] std, long frames) {
        if (mean.length != std.length || mean.length == 0) {
            throw new IllegalArgumentException("Cmvn: mean and std must have the same shape (C,), got (" + mean.length + ",) and ("
                    + std.length + ",)");
        }
        for (int m = 0; m < std.length; m++) {
            if (!(std[m] > 0) || !Double.isFinite(std[m]) || !Double.isFinite(mean[m])) {
                throw new IllegalArgumentException("Cmvn: bin " + m + " needs a finite mean and std > 0, got mean " + mean[m] + ", std " + std[m]);
            }
        }
        this.mean = mean.clone();
        this.std = std.clone();
        this.frames = frames;
    }

    public int dim() {
        return mean.length;
    }

    public double[] mean() {
        return mean.clone();
    }

    public double[] std() {
        return std.clone();
    }

    public long frames() {
        return frames;
    }

    /**
     * Normalises with these (global) statistics.
     *
     * @param f features, shape (T, C) with C = {@link #dim()}
     */
    public void applyInPlace(FeatureMatrix f) {
        applyInPlace(f.values(), 0, f.frames(), f.bins());
    }

    /**
     * Normalises features stored inside a larger array.
     *
     * @param v features at {@code v[offset + t * bins + m]}, shape (T, C) with C = {@link #dim()}
     */
    public void applyInPlace(float[] v, int offset, int frames, int bins) {
        if (bins != mean.length) {
            throw new IllegalArgumentException("Cmvn: features must have shape (T, " + mean.length + "), got [" + frames + ", " + bins + "]");
        }
        checkRange(v, offset, frames, bins);
        int c = bins;
        float[] sub = new float[c], mul = new float[c];
        for (int m = 0; m < c; m++) {
            sub[m] = (float) mean[m];
            mul[m] = (float) (1 / std[m]);
        }
        for (int t = 0; t < frames; t++) {
            int o = offset + t * c;
            for (int m = 0; m < c; m++) v[o + m] = (v[o + m] - sub[m]) * mul[m];
        }
    }

    private static void checkRange(float[] v, int offset, int frames, int bins) {
        if (offset < 0 || frames < 0 || offset + (long) frames * bins > v.length) {
            throw new IllegalArgumentException("Cmvn: features (T " + frames + ", C " + bins + ") at offset " + offset
                    + " do not fit in an array of " + v.length);
        }
    }

    /**
     * Normalises an utterance by its own per-bin mean and standard deviation (an utterance of
     * one frame becomes all zeros; no frames: unchanged).
     *
     * @param f features, shape (T, C)
     */
    public static void normalizeUtteranceInPlace(FeatureMatrix f) {
        normalizeUtteranceInPlace(f.values(), 0, f.frames(), f.bins());
    }

    /**
     * {@link #normalizeUtteranceInPlace(FeatureMatrix)} for an utterance stored inside a larger
     * array.
     *
     * @param v features at {@code v[offset + t * bins + m]}, shape (T, C)
     */
    public static void normalizeUtteranceInPlace(float[] v, int offset, int frames, int bins) {
        if (frames == 0) return;
        Accumulator a = new Accumulator(bins);
        a.add(v, offset, frames, bins);
        a.toCmvn().applyInPlace(v, offset, frames, bins);
    }

    /** JSON form: {@code {"dim":C,"frames":N,"mean":[..],"std":[..]}}. */
    public String toJson() {
        return GSON.toJson(new Json(mean.length, frames, mean, std));
    }

    /**
     * @throws IllegalArgumentException when the JSON is malformed or inconsistent
     */
    public static Cmvn fromJson(String json) {
        Json j;
        try {
            j = GSON.fromJson(json, Json.class);
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("Cmvn: bad JSON: " + e.getMessage(), e);
        }
        if (j == null || j.mean == null || j.std == null || j.mean.length != j.dim) {
            throw new IllegalArgumentException("Cmvn: JSON needs \"dim\", \"mean\" and \"std\" of length dim");
        }
        return new Cmvn(j.mean, j.std, j.frames);
    }

    public void save(Path file) {
        try {
            Files.writeString(file, toJson());
        } catch (IOException e) {
            throw new UncheckedIOException("Cmvn: cannot write " + file, e);
        }
    }

    public static Cmvn load(Path file) {
        try {
            return fromJson(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException("Cmvn: cannot read " + file, e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    private record Json(int dim, long frames, double[] mean, double[] std) {}

    /**
     * Running per-bin sums over many utterances, in float64 (sums of x and x^2 after subtracting
     * a per-bin shift taken from the first frame, which keeps the variance accurate). Not
     * thread-safe; accumulate per thread and {@link #merge}.
     */
    public static final class Accumulator {
        private final int dim;
        private final double[] shift, sum, sumSq;
        private long count;

        public Accumulator(int dim) {
            if (dim <= 0) throw new IllegalArgumentException("Cmvn.Accumulator: dim must be > 0, got " + dim);
            this.dim = dim;
            shift = new double[dim];
            sum = new double[dim];
            sumSq = new double[dim];
        }

        /** @param f features, shape (T, C) with C = dim */
        public void add(FeatureMatrix f) {
            add(f.values(), 0, f.frames(), f.bins());
        }

        /** @param v features at {@code v[offset + t * bins + m]}, shape (T, C) with C = dim */
        public void add(float[] v, int offset, int frames, int bins) {
            if (bins != dim) {
                throw new IllegalArgumentException("Cmvn.Accumulator: features must have shape (T, " + dim + "), got [" + frames + ", " + bins + "]");
            }
            checkRange(v, offset, frames, bins);
            if (count == 0 && frames > 0) {
                for (int m = 0; m < dim; m++) shift[m] = v[offset + m];
            }
            for (int t = 0; t < frames; t++) {
                int o = offset + t * dim;
                for (int m = 0; m < dim; m++) {
                    double d = v[o + m] - shift[m];
                    sum[m] += d;
                    sumSq[m] += d * d;
                }
            }
            count += frames;
        }

        /** Adds another accumulator's frames to this one. */
        public void merge(Accumulator o) {
            if (o.dim != dim) throw new IllegalArgumentException("Cmvn.Accumulator: cannot merge dim " + o.dim + " into dim " + dim);
            if (o.count == 0) return;
            if (count == 0) System.arraycopy(o.shift, 0, shift, 0, dim);
            for (int m = 0; m < dim; m++) {
                double delta = o.shift[m] - shift[m]; // re-centre o's sums on this shift
                sum[m] += o.sum[m] + o.count * delta;
                sumSq[m] += o.sumSq[m] + 2 * delta * o.sum[m] + o.count * delta * delta;
            }
            count += o.count;
        }

        public long frames() {
            return count;
        }

        /** @throws IllegalStateException when no frames were added */
        public Cmvn toCmvn() {
            if (count == 0) throw new IllegalStateException("Cmvn.Accumulator: no frames accumulated");
            double[] mean = new double[dim], std = new double[dim];
            for (int m = 0; m < dim; m++) {
                double mu = sum[m] / count;
                mean[m] = shift[m] + mu;
                std[m] = Math.sqrt(Math.max(sumSq[m] / count - mu * mu, VARIANCE_FLOOR));
            }
            return new Cmvn(mean, std, count);
        }
    }
}
