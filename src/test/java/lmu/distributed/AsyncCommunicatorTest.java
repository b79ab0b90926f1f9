package lmu.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class AsyncCommunicatorTest {
    /**
     * Rank 0 starts an all-reduce and cannot be done before rank 1 has even called (rank 1 waits
     * for rank 0's go-ahead); its next, synchronous all-reduce queues behind the first, so the
     * group sees the same sequence from both ranks and both results are the closed-form sums.
     */
    @Test
    void anAsynchronousAllReduceReturnsAtOnceAndLaterOperationsQueueBehindIt() {
        CountDownLatch started = new CountDownLatch(1);
        List<String> out = Ranks.run(2, Duration.ofSeconds(20), "async", inner -> {
            AsyncCommunicator c = new AsyncCommunicator(inner, "t");
            int r = c.rank();
            float[] a = {r + 1, 10 * (r + 1)};
            double[] b = {r};
            if (r == 0) {
                AsyncCommunicator.Pending p = c.allReduceAsync(a, 0, 2, Communicator.Op.SUM);
                boolean doneEarly = p.isDone(); // rank 1 has not called anything yet
                started.countDown();
                c.allReduce(b, Communicator.Op.MAX); // queued behind the first
                assertTrue(p.isDone(), "a later synchronous operation finished, so the earlier one did");
                p.await();
                return doneEarly + " " + a[0] + " " + a[1] + " " + b[0];
            }
            assertTrue(started.await(20, TimeUnit.SECONDS));
            c.allReduce(a, Communicator.Op.SUM);
            c.allReduce(b, Communicator.Op.MAX);
            return "- " + a[0] + " " + a[1] + " " + b[0];
        });
        assertEquals("false 3.0 30.0 1.0", out.get(0));
        assertEquals("- 3.0 30.0 1.0", out.get(1));
    }

    @Test
    void submittedWorkRunsInOrderOnOneThread() {
        List<List<String>> out = Ranks.run(1, Duration.ofSeconds(20), "async", inner -> {
            AsyncCommunicator c = new AsyncCommunicator(inner, "order");
            List<String> seen = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
            AsyncCommunicator.Pending last = null;
            for (int k = 0; k < 20; k++) {
                int id = k;
                last = c.submit(x -> seen.add(id + "@" + Thread.currentThread().getName()));
            }
            last.await();
            return seen;
        });
        List<String> seen = out.get(0);
        assertEquals(20, seen.size());
        for (int k = 0; k < 20; k++) assertEquals(k + "@order-comm-rank0", seen.get(k));
    }

    @Test
    void anAbortedPeerFailsThePendingOperation() {
        Ranks.RankFailedException e = assertThrows(Ranks.RankFailedException.class, () -> Ranks.run(2, Duration.ofSeconds(30), "async",
                inner -> {
                    AsyncCommunicator c = new AsyncCommunicator(inner, "t");
                    if (c.rank() == 1) throw new IllegalStateException("out of coffee");
                    float[] a = {1};
                    AsyncCommunicator.Pending p = c.allReduceAsync(a, 0, 1, Communicator.Op.SUM);
                    p.await(); // rank 1 never joins: its abort must end this, not the 30 s timeout
                    return null;
                }));
        assertEquals(1, e.rank());
        assertTrue(e.getMessage().contains("out of coffee"), e.getMessage());
    }

    @Test
    void theOperationsOwnErrorsComeBackFromAwait() {
        List<String> out = Ranks.run(1, Duration.ofSeconds(20), "async", inner -> {
            AsyncCommunicator c = new AsyncCommunicator(inner, "t");
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> c.allReduce(new float[2], 1, 5, Communicator.Op.SUM));
            AsyncCommunicator.Pending p = c.submit(x -> {
                throw new IllegalStateException("packing failed");
            });
            IllegalStateException e = assertThrows(IllegalStateException.class, p::await);
            assertTrue(p.isDone());
            float[] v = {2, 3};
            c.allReduce(v, Communicator.Op.SUM); // the thread survives a failed task
            assertArrayEquals(new float[] {2, 3}, v);
            return bad.getMessage() + " | " + e.getMessage();
        });
        assertTrue(out.get(0).contains("got off 1, len 5"), out.get(0));
        assertTrue(out.get(0).endsWith("packing failed"), out.get(0));
    }
}
