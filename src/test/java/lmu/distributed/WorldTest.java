package lmu.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class WorldTest {
    @Test
    void slurmVariablesGiveTheWorldAndRankZerosAddress() {
        World w = World.fromEnvironment(Map.of("SLURM_NTASKS", "2", "SLURM_PROCID", "1", "SLURM_JOB_ID", "123456",
                "SLURM_JOB_NODELIST", "gpu[07-08]"), 4, 4);
        assertEquals(8, w.size());
        assertEquals(4, w.rank(0));
        assertEquals(7, w.rank(3));
        assertEquals("gpu07", w.masterAddr());
        assertEquals(20000 + 123456 % 20000, w.masterPort());
        assertTrue(!w.isLeader());
        World m = World.fromEnvironment(Map.of("SLURM_NTASKS", "2", "SLURM_PROCID", "0", "MASTER_ADDR", "10.0.0.5", "MASTER_PORT", "4000",
                "SLURM_NODELIST", "a1"), 1, 0);
        assertEquals("10.0.0.5", m.masterAddr());
        assertEquals(4000, m.masterPort());
    }

    @Test
    void nodeListsAreRead() {
        assertEquals("gpu03", World.firstHost("gpu[03-05,9],cpu1"));
        assertEquals("n1", World.firstHost("n1,n[2-3]"));
        assertEquals("rack1-n007x", World.firstHost("rack1-n[007-009]x"));
        assertEquals("single", World.firstHost("single"));
    }

    @Test
    void byHandAndSingleProcess() {
        World w = World.fromEnvironment(Map.of("NNODES", "3", "NODE_RANK", "2", "MASTER_ADDR", "h0"), 2, 0);
        assertEquals(6, w.size());
        assertEquals(4, w.rank(0));
        assertEquals(World.DEFAULT_PORT, w.masterPort());
        World one = World.fromEnvironment(Map.of(), 3, 0);
        assertEquals(3, one.size());
        assertTrue(one.isLeader());
    }

    @Test
    void badValuesNameTheVariable() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> World.fromEnvironment(Map.of("SLURM_NTASKS", "two"), 1, 0));
        assertTrue(e.getMessage().contains("SLURM_NTASKS must be an integer, got 'two'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> World.fromEnvironment(Map.of("NNODES", "2", "NODE_RANK", "1"), 1, 0));
        assertTrue(e.getMessage().contains("MASTER_ADDR is not set"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> World.fromEnvironment(Map.of("SLURM_NTASKS", "2", "SLURM_PROCID", "2",
                "MASTER_ADDR", "x"), 1, 0));
        assertTrue(e.getMessage().contains("0 <= node < nodes"), e.getMessage());
    }

    @Test
    void batchSmallerThanRanksIsRejectedNamingTheKey() {
        World w = World.local(4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.checkBatch(3));
        assertTrue(e.getMessage().startsWith("config key train.batch_size: the global batch 3 is smaller than the 4 ranks"), e.getMessage());
        w.checkBatch(4);
        assertEquals("batch: 8 global = 2 per rank x 4 rank(s)", World.batchLine(8, 4, 1));
        String uneven = World.batchLine(10, 4, 1);
        assertTrue(uneven.startsWith("batch: 10 global = 2 or 3 per rank x 4 rank(s) (10 does not divide by 4: 2 rank(s) take 3, 2 take 2"),
                uneven);
    }
}
