package lmu.backend.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import lmu.backend.Backends;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SimBackendTest {
    private SimBackend sim;

    @BeforeEach
    void install() {
        sim = SimBackend.install(0);
    }

    @AfterEach
    void uninstall() {
        sim.close();
    }

    @Test
    void tensorsLiveOnTheDeviceAndRefuseHostArrayAccess() {
        Tensor host = Tensor.of(new float[] {1, -2, 3, 4.5f, 0, 7}, 2, 3);
        Tensor d = Backends.to(host, Device.cuda(0));
        assertEquals(Device.cuda(0), d.device());
        assertTrue(d.storage() instanceof SimStorage);
        IllegalStateException e = assertThrows(IllegalStateException.class, d::f32);
        assertTrue(e.getMessage().contains("f32() on a F32 tensor on cuda:0 (device memory has no host array"), e.getMessage());
        Tensor back = Backends.to(d, Device.CPU);
        assertEquals(Device.CPU, back.device());
        assertArrayEquals(host.f32(), back.f32());
        assertNotSame(host.f32(), back.f32());
        assertSame(d, Backends.to(d, Device.cuda(0)));
    }

    @Test
    void forwardAndBackwardEqualTheCpuAndGradientsStayOnTheDevice() {
        Rng rng = new Rng(5);
        Tensor a = Tensor.randn(rng, DType.F32, 1, 3, 4);
        Tensor b = Tensor.randn(rng, DType.F32, 1, 4, 5);
        Tensor da = sim.toDevice(a).requiresGrad(true), db = sim.toDevice(b).requiresGrad(true);
        a.requiresGrad(true);
        b.requiresGrad(true);
        Tensor cpuLoss = a.matmul(b).tanh().logSoftmax(1).mean();
        Tensor devLoss = da.matmul(db).tanh().logSoftmax(1).mean();
        assertEquals(Device.cuda(0), devLoss.device());
        assertEquals(cpuLoss.item(), devLoss.item(), 0);
        cpuLoss.backward();
        devLoss.backward();
        assertEquals(Device.cuda(0), da.grad().device());
        assertEquals(Device.cuda(0), db.grad().device());
        assertArrayEquals(a.grad().f32(), sim.toHost(da.grad()).f32(), 0f);
        assertArrayEquals(b.grad().f32(), sim.toHost(db.grad()).f32(), 0f);
    }

    @Test
    void mixingHostAndDeviceTensorsIsRefusedNamingTheArgument() {
        Tensor d = sim.toDevice(Tensor.of(new float[] {1, 2}, 2));
        Tensor h = Tensor.of(new float[] {3, 4}, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> sim.binary(lmu.backend.BinaryOp.ADD, sim.empty(DType.F32, 2), d, h));
        assertTrue(e.getMessage().contains("SimBackend.binary: b must be an f32 tensor on cuda:0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> sim.empty(DType.F64, 2));
    }

    @Test
    void elementAccessIsCounted() {
        Tensor d = sim.toDevice(Tensor.of(new float[] {1, 2, 3}, 3));
        long before = SimStorage.elementAccesses();
        assertEquals(6.0, d.sum().item(), 0);
        assertEquals(before + 1, SimStorage.elementAccesses());
    }

    @Test
    void unregisteringLeavesNoCudaBackend() {
        sim.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backends.of(Device.cuda(0)));
        assertTrue(e.getMessage().contains("no CUDA backend is registered"), e.getMessage());
        sim = SimBackend.install(0);
        assertSame(sim, Backends.of(Device.cuda(0)));
    }

    @Test
    void kernelFamiliesTheCpuLacksAreRefused() {
        assertThrows(UnsupportedOperationException.class, () -> sim.kernels(Runnable.class));
    }

    @Test
    void sixteenBitTensorsHoldRoundedValuesAndOnlyTheMixedPrecisionOpsTakeThem() {
        Tensor x = sim.toDevice(Tensor.of(new float[] {1f / 3, 1000.1f, -2.5f, 65519f}, 2, 2));
        Tensor h = sim.empty(DType.F16, 2, 2);
        sim.cast(h, x);
        assertEquals(DType.F16, h.dtype());
        float[] want = new float[4];
        for (int i = 0; i < 4; i++) want[i] = lmu.tensor.HalfFloats.f16ToFloat(lmu.tensor.HalfFloats.floatToF16(x.toFloatArray()[i]));
        assertArrayEquals(want, sim.toHost(h).f32(), 0f);
        assertEquals(0.333251953125f, sim.toHost(h).f32()[0], 0f);
        // a product of two f16 operands accumulates in fp32 into an f32 result
        Tensor out = sim.empty(DType.F32, 2, 2);
        sim.matmul(out, h, h, 1, 2, 2, 2, false, false, false, false, 0);
        Tensor ref = Tensor.of(want, 2, 2).matmul(Tensor.of(want, 2, 2));
        assertArrayEquals(ref.f32(), sim.toHost(out).f32(), 0f);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> sim.unary(lmu.backend.UnaryOp.TANH, sim.empty(DType.F32, 2, 2), h, 0));
        assertTrue(e.getMessage().contains("SimBackend.unary: x must be an f32 tensor on cuda:0, got f16"), e.getMessage());
        assertEquals(4, sim.allocated(DType.F16));
    }
}
