package lmu.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import lmu.backend.cpu.CpuBackend;
import lmu.backend.sim.SimBackend;
import lmu.distributed.Communicator;
import lmu.distributed.InProcessCommunicator;
import lmu.distributed.Ranks;
import lmu.tensor.Device;
import lmu.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** One backend per CUDA device index, and the tensor all-reduce of communicators on simulated devices. */
class BackendsTest {
    @Test
    void eachDeviceIndexHasItsOwnBackend() {
        try (SimBackend zero = SimBackend.install(0); SimBackend one = SimBackend.install(1)) {
            assertSame(zero, Backends.of(Device.cuda(0)));
            assertSame(one, Backends.of(Device.cuda(1)));
            assertSame(CpuBackend.INSTANCE, Backends.of(Device.CPU));
            Tensor x = Backends.to(Tensor.of(new float[] {1, 2, 3}, 3), Device.cuda(1));
            assertEquals(Device.cuda(1), x.device());
            Tensor y = Backends.to(x, Device.cuda(0)); // between devices through the host
            assertEquals(Device.cuda(0), y.device());
            assertArrayEquals(new float[] {1, 2, 3}, Backends.to(y, Device.CPU).toFloatArray());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backends.of(Device.cuda(2)));
            assertTrue(e.getMessage().startsWith("Backends: no CUDA backend is registered for cuda:2 (registered: [cuda:0, cuda:1])"),
                    e.getMessage());
            zero.close();
            assertSame(one, Backends.of(Device.cuda(1)), "closing cuda:0's backend leaves cuda:1's");
            assertThrows(IllegalStateException.class, () -> Backends.of(Device.cuda(0)));
        }
    }

    @Test
    void unregisteringAnotherBackendOfTheSameIndexKeepsTheRegisteredOne() {
        try (SimBackend first = SimBackend.install(3)) {
            SimBackend stale = new SimBackend(Device.cuda(3));
            Backends.unregisterCuda(stale);
            assertSame(first, Backends.of(Device.cuda(3)));
        }
    }

    @Test
    void aBackendOfTheCpuCannotBeRegisteredAsCuda() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backends.registerCuda(CpuBackend.INSTANCE));
        assertEquals("Backends.registerCuda: the backend's device must be cuda:N, got cpu (CpuBackend)", e.getMessage());
    }

    /**
     * Three ranks, each on its own simulated device, all-reduce two device tensors in place: rank r
     * contributes (r + 1) * v[i] and r - i, so every rank gets 6 v[i] and 3 - 3 i.
     */
    @Test
    void inProcessRanksReduceTensorsOnTheirDevicesInPlace() {
        List<float[][]> out = Ranks.run(InProcessCommunicator.group(3, java.time.Duration.ofSeconds(30)), "tensor-allreduce", c -> {
            int r = c.rank();
            try (SimBackend sim = SimBackend.install(10 + r)) {
                float[] a = new float[13], b = new float[5];
                for (int i = 0; i < a.length; i++) a[i] = (r + 1) * (i * 0.5f - 2);
                for (int i = 0; i < b.length; i++) b[i] = r - i;
                Tensor ta = sim.toDevice(Tensor.of(a, a.length)), tb = sim.toDevice(Tensor.of(b, b.length));
                long copies = sim.hostCopies();
                c.allReduce(List.of(ta, tb), Communicator.Op.SUM);
                assertEquals(copies, sim.hostCopies(), "no copy to the host");
                return new float[][] {sim.toHost(ta).f32(), sim.toHost(tb).f32()};
            }
        });
        for (int r = 0; r < 3; r++) {
            for (int i = 0; i < 13; i++) assertEquals(6 * (i * 0.5f - 2), out.get(r)[0][i], "rank " + r + ", a[" + i + "]");
            for (int i = 0; i < 5; i++) assertEquals(3 - 3 * i, out.get(r)[1][i], "rank " + r + ", b[" + i + "]");
        }
    }

    @Test
    void aHostCommunicatorRefusesTensorsItCannotReach() {
        Tensor f64 = Tensor.of(new double[] {1, 2}, 2);
        List<String> msg = Ranks.run(1, java.time.Duration.ofSeconds(10), "tensor-args",
                c -> assertThrows(IllegalArgumentException.class, () -> c.allReduce(List.of(f64), Communicator.Op.SUM)).getMessage());
        assertTrue(msg.get(0).contains(".allReduce: tensors must be float32, got F64 on cpu"), msg.get(0));
    }
}
