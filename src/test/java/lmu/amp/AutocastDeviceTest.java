package lmu.amp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import lmu.backend.Backends;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;

/**
 * The device side of the policy on {@link HalfDeviceSim} (real 16-bit storage, the dtype contract
 * of the CUDA backend): operands stored as F16/BF16 and converted once per activation, results and
 * gradients in F32, and values equal to the CPU emulation's where the two round the same.
 */
class AutocastDeviceTest {
    private static final int B = 2, T = 5, CIN = 7, COUT = 3;

    private record Run(Tensor y, Tensor[] leaves) {}

    /** q, k, v-like: three products of one input x (B, T, Cin) with weights (Cout, Cin), plus a bias; sum · cot. */
    private static Run run(Tensor x, Tensor[] w, Tensor bias, Tensor cot, Precision p) {
        Tensor[] leaves = {x.requiresGrad(true), w[0].requiresGrad(true), w[1].requiresGrad(true), w[2].requiresGrad(true),
            bias.requiresGrad(true)};
        Tensor y;
        try (Autocast ac = Autocast.enable(p)) {
            Tensor h = x.mul(1.5); // an activation (non-leaf): converted once for the three products
            y = h.matmul(w[0].transpose(0, 1)).add(bias);
            y = y.add(h.matmul(w[1].transpose(0, 1))).add(h.matmul(w[2].transpose(0, 1)));
        }
        Tensor loss = y.mul(cot).sum();
        Tensor seed = Backends.of(loss).empty(DType.F32, loss.shape());
        Backends.of(loss).fill(seed, 1);
        loss.backward(seed);
        return new Run(y, leaves);
    }

    private static float[] rounded(Precision p, float[] a) {
        float[] out = new float[a.length];
        p.round(a, 0, out, 0, a.length);
        return out;
    }

    @Test
    void devicePolicyStoresHalfOperandsOnceAndMatchesTheCpuEmulation() {
        for (Precision p : new Precision[] {Precision.FP16, Precision.BF16}) {
            HalfDeviceSim sim = new HalfDeviceSim();
            Backends.registerCuda(sim);
            Rng rng = new Rng(11);
            Tensor x = Tensor.randn(rng, DType.F32, 1, B, T, CIN), bias = Tensor.randn(rng, DType.F32, 0.1, COUT);
            Tensor cot = Tensor.randn(rng, DType.F32, 1, B, T, COUT);
            Tensor[] w = new Tensor[3];
            for (int i = 0; i < 3; i++) w[i] = Tensor.randn(rng, DType.F32, 0.5, COUT, CIN);

            Run cpu = run(x.copy(), new Tensor[] {w[0].copy(), w[1].copy(), w[2].copy()}, bias.copy(), cot, p);
            Tensor[] dw = {sim.toDevice(w[0]), sim.toDevice(w[1]), sim.toDevice(w[2])};
            Run dev = run(sim.toDevice(x), dw, sim.toDevice(bias), sim.toDevice(cot), p);

            long half = sim.allocated[p.storage().ordinal()];
            assertEquals(DType.F32, dev.y().dtype(), "the result of a product is f32 on the device");
            // forward: x·1.5 converted once (B·T·Cin), three weights converted (3·Cout·Cin); backward: the three
            // result gradients (3·B·T·Cout) and the gradients of the six operands, written in half by the products
            long forward = (long) B * T * CIN + 3L * COUT * CIN;
            long backward = 3L * B * T * COUT + 3L * B * T * CIN + 3L * COUT * CIN;
            assertEquals(forward + backward, half, p + ": 16-bit elements allocated");
            for (int i = 0; i < dev.leaves().length; i++) {
                Tensor g = dev.leaves()[i].grad();
                assertEquals(DType.F32, g.dtype(), "gradient " + i);
                // same roundings in the same places: the device gradients equal the emulation's bit for bit
                assertArrayEquals(cpu.leaves()[i].grad().f32(), g.toFloatArray(), p + " gradient " + i);
            }
            // the device keeps each product's fp32 result where the emulation rounds it: three roundings apart at
            // most, each within half a unit (2^-11 for fp16, 2^-8 for bf16) of a product term of size <= 2 + |y|
            float[] y = dev.y().toFloatArray(), ref = cpu.y().f32();
            double unit = p == Precision.FP16 ? 0x1p-11 : 0x1p-8;
            boolean anyDiffer = false;
            for (int i = 0; i < y.length; i++) {
                assertEquals(ref[i], y[i], 3 * unit * (2 + Math.abs(ref[i])), p + " y[" + i + "]");
                anyDiffer |= y[i] != ref[i];
            }
            assertTrue(anyDiffer, "the device result is not rounded to " + p);
            Backends.unregisterCuda(sim);
        }
    }

    @Test
    void offLeavesDeviceTensorsInF32() {
        HalfDeviceSim sim = new HalfDeviceSim();
        Backends.registerCuda(sim);
        Rng rng = new Rng(2);
        Tensor[] w = {sim.toDevice(Tensor.randn(rng, DType.F32, 1, COUT, CIN)), sim.toDevice(Tensor.randn(rng, DType.F32, 1, COUT, CIN)),
            sim.toDevice(Tensor.randn(rng, DType.F32, 1, COUT, CIN))};
        run(sim.toDevice(Tensor.randn(rng, DType.F32, 1, B, T, CIN)), w, sim.toDevice(Tensor.zeros(COUT)),
                sim.toDevice(Tensor.randn(rng, DType.F32, 1, B, T, COUT)), Precision.OFF);
        assertEquals(0, sim.allocated[DType.F16.ordinal()] + sim.allocated[DType.BF16.ordinal()]);
        Backends.unregisterCuda(sim);
    }
}
