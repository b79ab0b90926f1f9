package lmu.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class TcpRendezvousTest {
    @Test
    void sharesRankZerosBytesAndReducesInThreads() throws Exception {
        int port = TcpProcessesIT.freePort();
        byte[] id = new byte[128];
        for (int i = 0; i < id.length; i++) id[i] = (byte) (i * 7);
        CompletableFuture<TcpRendezvous.Connection> one = CompletableFuture.supplyAsync(
                () -> TcpRendezvous.rendezvous("127.0.0.1", port, 1, 2, null, Duration.ofSeconds(20)));
        TcpRendezvous.Connection zero = TcpRendezvous.rendezvous("127.0.0.1", port, 0, 2, id, Duration.ofSeconds(20));
        TcpRendezvous.Connection c1 = one.get();
        assertArrayEquals(id, c1.shared(), "rank 1 got rank 0's id (the NCCL unique id on GPUs)");
        try (TcpCommunicator a = new TcpCommunicator(zero, Duration.ofSeconds(20));
             TcpCommunicator b = new TcpCommunicator(c1, Duration.ofSeconds(20))) {
            CompletableFuture<double[]> r1 = CompletableFuture.supplyAsync(() -> {
                double[] v = {1.5, -2};
                b.allReduce(v, Communicator.Op.SUM);
                return v;
            });
            double[] v = {2.25, 5};
            a.allReduce(v, Communicator.Op.SUM);
            assertArrayEquals(new double[] {3.75, 3}, v);
            assertArrayEquals(v, r1.get());
        }
    }

    @Test
    void rankZeroNamesTheRanksThatNeverCame() throws Exception {
        int port = TcpProcessesIT.freePort();
        CommunicatorException e = assertThrows(CommunicatorException.class,
                () -> TcpRendezvous.rendezvous("127.0.0.1", port, 0, 3, null, Duration.ofMillis(300)));
        assertTrue(e.getMessage().contains("rank(s) [1, 2] never connected"), e.getMessage());
        assertEquals(1, e.failedRank());
    }

    @Test
    void aRankFindingNoRankZeroSaysWhere() throws Exception {
        int port = TcpProcessesIT.freePort();
        CommunicatorException e = assertThrows(CommunicatorException.class,
                () -> TcpRendezvous.rendezvous("127.0.0.1", port, 1, 2, null, Duration.ofMillis(300)));
        assertTrue(e.getMessage().contains("could not reach rank 0 at 127.0.0.1:" + port), e.getMessage());
    }

    @Test
    void disagreeingWorldSizesAreRejected() throws Exception {
        int port = TcpProcessesIT.freePort();
        CompletableFuture<Throwable> other = CompletableFuture.supplyAsync(() -> {
            try {
                TcpRendezvous.rendezvous("127.0.0.1", port, 1, 3, null, Duration.ofSeconds(10));
                return null;
            } catch (RuntimeException ex) {
                return ex;
            }
        });
        CommunicatorException e = assertThrows(CommunicatorException.class,
                () -> TcpRendezvous.rendezvous("127.0.0.1", port, 0, 2, null, Duration.ofSeconds(10)));
        assertTrue(e.getMessage().contains("it expects 3 ranks, rank 0 expects 2"), e.getMessage());
        Throwable t = other.get();
        assertTrue(t != null && t.getMessage().contains("rejected rank 1"), String.valueOf(t));
    }
}
