package lmu.speech.audio;

import java.util.Arrays;

/**
 * A float array that grows as samples are decoded, so that a length field in a forged header
 * can never make the reader allocate more than the decoded data needs.
 */
final class GrowableSamples {
    private float[] a;
    private int n;

    GrowableSamples(long expected) {
        a = new float[(int) Math.max(16, Math.min(expected, 1 << 20))];
    }

    void add(float v) {
        if (n == a.length) a = Arrays.copyOf(a, a.length >= (Integer.MAX_VALUE - 8) / 2 ? Integer.MAX_VALUE - 8 : a.length * 2);
        a[n++] = v;
    }

    int size() {
        return n;
    }

    float[] toArray() {
        return n == a.length ? a : Arrays.copyOf(a, n);
    }
}
