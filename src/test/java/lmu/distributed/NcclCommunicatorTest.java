package lmu.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.List;
import lmu.backend.cuda.Cuda;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * NCCL on the GPUs of this machine ({@code mvn verify -Pgpu}): every rank contributes its rank id
 * and the all-reduce must give the closed form size (size - 1) / 2. Skipped without CUDA.
 */
@Tag("gpu")
class NcclCommunicatorTest {
    @Test
    void everyGpuContributesItsRank() {
        assumeTrue(Cuda.isAvailable(), () -> "CUDA not available: " + Cuda.unavailabilityCause().getMessage());
        int n = Cuda.deviceCount();
        byte[] id = NcclCommunicator.createUniqueId();
        List<String> out = Ranks.run(n, Duration.ofSeconds(60), "nccl-test", ignored -> {
            int r = ignored.rank();
            try (NcclCommunicator c = new NcclCommunicator(r, id, r, n, Duration.ofSeconds(60))) {
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
            }
        });
        assertEquals(n, out.size());
    }
}
