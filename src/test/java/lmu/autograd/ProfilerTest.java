package lmu.autograd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ProfilerTest {
    @AfterEach
    void off() {
        Profiler.enable(false);
        Profiler.reset();
    }

    private static String row(String table, String key) {
        return Arrays.stream(table.split("\n")).filter(l -> l.startsWith(key + " ")).findFirst()
                .orElseThrow(() -> new AssertionError("no row " + key + " in\n" + table));
    }

    @Test
    void perStepTableSplitsForwardAndBackwardAndSharesOfTheStep() {
        Profiler.reset();
        Profiler.enable(true);
        Profiler.record("MatMul", false, 2_000_000);
        Profiler.record("MatMul", true, 4_000_000);
        Profiler.add("optimizer", 1_000_000);
        String t = Profiler.table(2, 10_000_000); // 2 steps of 5 ms
        String[] mm = row(t, "MatMul").trim().split("\\s+");
        assertEquals(Arrays.asList("MatMul", "1.0", "2.0", "3.0", "60.0%", "1.0"), Arrays.asList(mm), t);
        String[] opt = row(t, "optimizer").trim().split("\\s+");
        assertEquals(Arrays.asList("optimizer", "-", "-", "0.5", "10.0%", "0.5"), Arrays.asList(opt), t);
        assertTrue(row(t, "(outside ops)").contains("1.5") && row(t, "(outside ops)").contains("30.0%"), t);
        assertTrue(row(t, "step (wall)").contains("5.0") && row(t, "step (wall)").contains("100.0%"), t);
        // without steps: totals and shares of the recorded time
        assertTrue(row(Profiler.table(), "MatMul").contains("85.7%"), Profiler.table());
    }

    @Test
    void opsRecordUnderTheirNameOnlyWhenEnabled() {
        Profiler.reset();
        Tensor x = Tensor.randn(new Rng(1), DType.F64, 1, 3, 4).requiresGrad(true);
        x.mul(2.0).sum().backward();
        assertTrue(Profiler.table().lines().count() == 1, "recorded while off:\n" + Profiler.table());
        Profiler.enable(true);
        x.mul(2.0).sum().backward();
        String t = Profiler.table();
        String[] scale = row(t, "Scale").trim().split("\\s+");
        assertEquals("2", scale[scale.length - 1], t); // one forward and one backward call
    }
}
