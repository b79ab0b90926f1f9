package lmu.backend;

import lmu.tensor.DeviceStorage;
import lmu.tensor.Tensor;

/**
 * The layout of a device-side table of 64-bit dropout mask seeds in a float32 tensor, so that a
 * kernel can read its seed from device memory (and a captured launch draws a new mask when the
 * table is rewritten before a replay): slot {@code s} holds the seed's four 16-bit chunks, low
 * first, as the exactly representable floats {@code t[4s + k] = (seed >>> 16k) & 0xFFFF}.
 *
 * <pre>{@code
 * float[] host = new float[SeedTable.FLOATS_PER_SEED * slots];
 * SeedTable.encode(seed, host, 3);          // slot 3
 * long back = SeedTable.decode(host, 3);    // == seed
 * }</pre>
 */
public final class SeedTable {
    /** Floats per seed. */
    public static final int FLOATS_PER_SEED = 4;

    private SeedTable() {}

    /**
     * Writes {@code seed} into slot {@code slot} of {@code table}.
     *
     * @throws IllegalArgumentException when the slot is outside the table
     */
    public static void encode(long seed, float[] table, int slot) {
        check(table.length, slot);
        for (int k = 0; k < FLOATS_PER_SEED; k++) table[FLOATS_PER_SEED * slot + k] = (float) ((seed >>> (16 * k)) & 0xFFFF);
    }

    /**
     * The seed in slot {@code slot} of {@code table}.
     *
     * @throws IllegalArgumentException when the slot is outside the table
     */
    public static long decode(float[] table, int slot) {
        check(table.length, slot);
        long seed = 0;
        for (int k = 0; k < FLOATS_PER_SEED; k++) seed |= ((long) table[FLOATS_PER_SEED * slot + k] & 0xFFFF) << (16 * k);
        return seed;
    }

    /**
     * The seed in slot {@code slot} of a table tensor of any device (a device table is copied to
     * the host: the generic path, which waits for the device).
     *
     * @param table float32 tensor of {@code FLOATS_PER_SEED * slots} elements
     * @throws IllegalArgumentException when the slot is outside the table
     */
    public static long read(Tensor table, int slot) {
        float[] host = table.storage() instanceof DeviceStorage d ? d.toHost() : table.toFloatArray();
        return decode(host, slot);
    }

    private static void check(int length, int slot) {
        if (slot < 0 || FLOATS_PER_SEED * (slot + 1) > length) {
            throw new IllegalArgumentException("SeedTable: slot must be in [0, " + length / FLOATS_PER_SEED + "), got " + slot);
        }
    }
}
