package lmu.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import lmu.distributed.NcclCommunicator;
import lmu.distributed.Ranks;
import lmu.distributed.World;
import org.junit.jupiter.api.Test;

/** The multi-node start of GPU ranks without a GPU: node 0's NCCL unique id reaches every node over TCP. */
class CudaRanksTest {
    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void everyNodeGetsNodeZerosUniqueId() throws Exception {
        int port = freePort(), nodes = 3;
        byte[] id = new byte[NcclCommunicator.UNIQUE_ID_BYTES];
        for (int i = 0; i < id.length; i++) id[i] = (byte) (31 * i + 7);
        // one thread per node (process); the communicator of Ranks.run is not used
        List<byte[]> got = Ranks.run(nodes, Duration.ofSeconds(30), "node", c -> {
            World w = new World(nodes, c.rank(), 2, 2, "127.0.0.1", port, "", "test");
            return CudaRanks.uniqueIdFromNodeZero(w, () -> {
                if (c.rank() != 0) throw new IllegalStateException("only node 0 creates the id");
                return id.clone();
            }, Duration.ofSeconds(20));
        });
        for (byte[] b : got) assertArrayEquals(id, b);
    }

    @Test
    void somethingElseThanAnIdIsRefused() throws Exception {
        int port = freePort();
        Ranks.RankFailedException e = assertThrows(Ranks.RankFailedException.class, () -> Ranks.run(2, Duration.ofSeconds(30), "node",
                c -> CudaRanks.uniqueIdFromNodeZero(new World(2, c.rank(), 1, 1, "127.0.0.1", port, "", "test"), () -> new byte[5],
                        Duration.ofSeconds(20))));
        assertTrue(e.getMessage().contains("node 0 handed out 5 bytes, expected an NCCL unique id of 128"), e.getMessage());
    }
}
