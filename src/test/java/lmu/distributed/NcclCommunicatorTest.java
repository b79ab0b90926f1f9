package lmu.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.List;
import lmu.backend.cuda.Cuda;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * NCCL on the GPUs of this machine ({@code mvn verify -Pgpu}), one communicator and one thread per
 * GPU in this JVM: every rank contributes its rank id and the all-reduce must give the closed form
 * size (size - 1) / 2. Skipped without CUDA; the failure test needs two GPUs.
 */
@Tag("gpu")
class NcclCommunicatorTest {
    private static void assumeGpus(int n) {
        assumeTrue(Cuda.isAvailable(), () -> "CUDA not available: " + Cuda.unavailabilityCause().getMessage());
        assumeTrue(Cuda.deviceCount() >= n, () -> "needs " + n + " GPUs, found " + Cuda.deviceCount());
    }

    @Test
    void everyGpuContributesItsRank() {
        assumeGpus(1);
        int n = Cuda.deviceCount();
        List<String> out = Ranks.run(NcclCommunicator.forLocalDevices(n, Duration.ofSeconds(60)), "nccl-test", c -> {
            int r = c.rank();
            float[] f = {r, 1, -r};
            c.allReduce(f, Communicator.Op.SUM);
            double[] m = {r};
            c.allReduce(m, Communicator.Op.MAX);
            float[] b = {r == n - 1 ? 5 : 0};
            c.broadcast(b, 0, 1, n - 1);
            float[] g = new float[n];
            c.allGather(new float[] {10 * r}, g);
            boolean any = c.anyTrue(r == 0);
            c.barrier();
            assertArrayEquals(new float[] {n * (n - 1) / 2f, n, -n * (n - 1) / 2f}, f);
            assertEquals(n - 1, m[0]);
            assertEquals(5, b[0]);
            for (int k = 0; k < n; k++) assertEquals(10 * k, g[k]);
            assertEquals(true, any);
            return "ok";
        });
        assertEquals(n, out.size());
    }

    @Test
    void oneThreadPerGpuInitialisesItsOwnRank() {
        assumeGpus(1);
        int n = Cuda.deviceCount();
        byte[] id = NcclCommunicator.createUniqueId();
        NcclCommunicator.Group group = new NcclCommunicator.Group();
        List<Float> out = Ranks.run(n, Duration.ofSeconds(60), "nccl-init", ignored -> {
            int r = ignored.rank();
            try (NcclCommunicator c = new NcclCommunicator(r, id, r, n, Duration.ofSeconds(60), group)) {
                float[] f = {r + 1};
                c.allReduce(f, Communicator.Op.SUM);
                return f[0];
            }
        });
        for (float v : out) assertEquals(n * (n + 1) / 2f, v);
    }

    @Test
    void theSelfCheckPasses() {
        assumeGpus(1);
        String line = NcclCheck.run(Cuda.deviceCount(), Duration.ofSeconds(60));
        assertTrue(line.startsWith("PASS: NCCL "), line);
    }

    /** Rank 1 throws while rank 0 waits in an all-reduce: rank 0 must stop long before its 120 s timeout. */
    @Test
    void aRankThatThrowsStopsTheOthersQuickly() {
        assumeGpus(2);
        long t0 = System.nanoTime();
        Ranks.RankFailedException e = assertThrows(Ranks.RankFailedException.class,
                () -> Ranks.run(NcclCommunicator.forLocalDevices(2, Duration.ofSeconds(120)), "nccl-fail", c -> {
                    float[] f = new float[1 << 16];
                    c.allReduce(f, Communicator.Op.SUM); // both ranks
                    if (c.rank() == 1) throw new IllegalStateException("disk on fire");
                    for (int k = 0; k < 100; k++) c.allReduce(f, Communicator.Op.SUM); // rank 1 never joins
                    return null;
                }));
        double s = (System.nanoTime() - t0) / 1e9;
        assertEquals(1, e.rank());
        assertTrue(e.getMessage().contains("disk on fire"), e.getMessage());
        assertTrue(s < 60, "the others stopped after " + s + " s, expected well within the 120 s timeout");
    }
}
