package lmu.distributed;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@link NcclCommunicator} rejects bad arguments before it calls CUDA or NCCL, so this runs without a GPU. */
class NcclArgumentsTest {
    @Test
    void aUniqueIdOfTheWrongLengthIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new NcclCommunicator(0, new byte[7], 0, 1, Duration.ofSeconds(1)));
        assertTrue(e.getMessage().contains("uniqueId must have 128 bytes, got 7"), e.getMessage());
    }

    @Test
    void aRankOutsideTheGroupIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new NcclCommunicator(0, new byte[NcclCommunicator.UNIQUE_ID_BYTES], 2, 2, Duration.ofSeconds(1)));
        assertTrue(e.getMessage().contains("expected 0 <= rank < size, got rank 2, size 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> NcclCommunicator.forDevices(new int[] {0, 1}, new byte[NcclCommunicator.UNIQUE_ID_BYTES], 3, 4, Duration.ofSeconds(1)));
        assertTrue(e.getMessage().contains("got 2 devices, firstRank 3, size 4"), e.getMessage());
    }
}
