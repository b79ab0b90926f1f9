package lmu.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class InProcessCommunicatorTest {
    @Test
    void collectivesGiveClosedFormsOnEveryRank() {
        int n = 4;
        List<String> out = Ranks.run(n, Duration.ofSeconds(20), "t", c -> {
            int r = c.rank();
            float[] f = {0, r, 1, 0};
            c.allReduce(f, 1, 2, Communicator.Op.SUM); // only [1, 3) reduced
            double[] d = {r, -r, Double.NaN * (r == 2 ? 1 : 0)};
            c.allReduce(d, Communicator.Op.MAX);
            float[] b = {r == 3 ? 7 : 0};
            c.broadcast(b, 0, 1, 3);
            double[] g = new double[n];
            c.allGather(new double[] {r * r}, g);
            boolean any = c.anyTrue(r == 1), all = c.allTrue(r >= 0);
            c.barrier();
            return java.util.Arrays.toString(f) + java.util.Arrays.toString(d) + b[0] + java.util.Arrays.toString(g) + any + all;
        });
        // sum over r of r = n(n - 1)/2 = 6; NaN from rank 2 propagates through MAX
        String expect = "[0.0, 6.0, 4.0, 0.0][3.0, 0.0, NaN]7.0[0.0, 1.0, 4.0, 9.0]truetrue";
        for (String s : out) assertEquals(expect, s);
    }

    @Test
    void sumsAreBitIdenticalAcrossRanksAndRuns() {
        float[][] first = null;
        for (int run = 0; run < 3; run++) {
            List<float[]> res = Ranks.run(3, Duration.ofSeconds(20), "t", c -> {
                float[] v = new float[100];
                for (int i = 0; i < v.length; i++) v[i] = (float) Math.sin(i * 0.37 + c.rank()) * 1e-3f * (c.rank() + 1) * (i % 7 == 0 ? 1e6f : 1);
                c.allReduce(v, Communicator.Op.SUM);
                return v;
            });
            for (float[] v : res) assertArrayEquals(res.get(0), v);
            if (first == null) first = new float[][] {res.get(0)};
            else assertArrayEquals(first[0], res.get(0));
        }
    }

    @Test
    void aFailingRankEndsTheOthersNamingIt() {
        long t0 = System.nanoTime();
        Ranks.RankFailedException e = assertThrows(Ranks.RankFailedException.class, () -> Ranks.run(3, Duration.ofSeconds(60), "t", c -> {
            c.barrier();
            if (c.rank() == 1) throw new IllegalStateException("boom on rank 1");
            c.barrier(); // the others wait here until rank 1's failure reaches them
            return null;
        }));
        assertEquals(1, e.rank());
        assertTrue(e.getMessage().contains("boom on rank 1"), e.getMessage());
        assertTrue((System.nanoTime() - t0) / 1e9 < 30, "well before the 60 s timeout");
    }

    @Test
    void aMissingRankTimesOutNamingIt() {
        List<Communicator> g = InProcessCommunicator.group(2, Duration.ofMillis(200));
        CommunicatorException e = assertThrows(CommunicatorException.class, () -> g.get(0).barrier());
        assertEquals(1, e.failedRank());
        assertTrue(e.getMessage().contains("rank(s) [1] never arrived"), e.getMessage());
        assertThrows(CommunicatorException.class, () -> g.get(1).barrier(), "the group stays broken");
    }

    @Test
    void differentOperationsAreAnErrorNotAHang() {
        Ranks.RankFailedException e = assertThrows(Ranks.RankFailedException.class, () -> Ranks.run(2, Duration.ofSeconds(30), "t", c -> {
            if (c.rank() == 0) c.allReduce(new float[3], Communicator.Op.SUM);
            else c.broadcast(new float[3], 0, 3, 0);
            return null;
        }));
        assertTrue(e.getMessage().contains("ranks called different operations"), e.getMessage());
        assertTrue(e.getMessage().contains("allReduce(float32, 3, SUM)") && e.getMessage().contains("broadcast(float32, 3, root 0)"),
                e.getMessage());
    }

    @Test
    void badArgumentsNameTheOp() {
        Communicator c = InProcessCommunicator.group(1, Duration.ofSeconds(1)).get(0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.allReduce(new float[2], 1, 2, Communicator.Op.SUM));
        assertTrue(e.getMessage().startsWith("allReduce: range"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> c.broadcast(new float[2], 0, 2, 1));
        assertTrue(e.getMessage().contains("root must be in [0, 1), got 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> c.allGather(new float[2], new float[3]));
        assertTrue(e.getMessage().contains("got 3"), e.getMessage());
    }
}
