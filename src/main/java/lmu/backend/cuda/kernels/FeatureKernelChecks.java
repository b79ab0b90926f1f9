package lmu.backend.cuda.kernels;

import java.util.ArrayList;
import java.util.List;
import lmu.backend.cuda.DeviceBuffer;
import lmu.backend.cuda.ParityCheck;
import lmu.backend.cuda.ParityRun;
import lmu.backend.cuda.Tolerance;
import lmu.speech.features.FeatureConfig;
import lmu.speech.features.LogMel;

/**
 * CPU-versus-CUDA parity of {@code kernels/logmel.cu} against {@link LogMel}: batches of signals of
 * awkward lengths (one sample, shorter than a window, exactly a hop, long), an empty utterance, loud
 * and silent signals, centred and uncentred frames. Registered in {@link lmu.backend.cuda.CudaSelfTest#checks()}.
 */
public final class FeatureKernelChecks {
    private FeatureKernelChecks() {}

    /** Every check, in the order they run. */
    public static List<ParityCheck> checks() {
        List<ParityCheck> c = new ArrayList<>();
        FeatureConfig defaults = FeatureConfig.defaults();
        c.add(ParityCheck.of("logmel awkward lengths B7", p -> logMel(p, defaults,
                new int[] {1, 7, 399, 160, 401, 16000 + 13, 0}, 1.0)));
        c.add(ParityCheck.of("logmel loud and quiet B3", p -> logMel(p, defaults, new int[] {4000, 3211, 800}, 3e4)));
        c.add(ParityCheck.of("logmel silent B2", p -> logMel(p, defaults, new int[] {1600, 2000}, 0.0)));
        FeatureConfig uncentred = new FeatureConfig(16000, 512, 400, 160, 64, 20, 7600, 1e-6, false);
        c.add(ParityCheck.of("logmel uncentred nFft512 mels64 B4", p -> logMel(p, uncentred, new int[] {512, 511, 4096, 1000}, 1.0)));
        c.add(ParityCheck.of("FeatureKernels.logMel B5 twice (tables cached)", p -> family(p, defaults,
                new int[] {16000, 1, 3999, 8000 + 7, 160})));
        return c;
    }

    /**
     * The {@link lmu.backend.FeatureKernels} family of the backend (what {@code data.features_on:
     * device} calls) against the CPU's, on tensors: a signal with a gap between utterances, run
     * twice so the second call uses the cached tables.
     */
    private static void family(ParityRun p, FeatureConfig cfg, int[] lengths) {
        int batch = lengths.length, total = 0;
        int[] offsets = new int[batch];
        for (int b = 0; b < batch; b++) {
            offsets[b] = total;
            total += lengths[b] + 11;
        }
        lmu.tensor.Tensor host = lmu.tensor.Tensor.of(p.randn(total, 0.3), total);
        float[] ref = lmu.backend.cpu.CpuBackend.INSTANCE.kernels(lmu.backend.FeatureKernels.class)
                .logMel(cfg, host, offsets, lengths).f32();
        lmu.backend.FeatureKernels gpu = p.backend().kernels(lmu.backend.FeatureKernels.class);
        lmu.tensor.Tensor signal = p.backend().toDevice(host);
        for (int run = 0; run < 2; run++) {
            lmu.tensor.Tensor out = gpu.logMel(cfg, signal, offsets, lengths);
            p.compare("features run " + run, p.backend().toHost(out).f32(), ref, cfg.nFft(), Tolerance.F32);
        }
    }

    /** Random signals of the given lengths scaled by {@code amplitude}, on the GPU and on the CPU. */
    private static void logMel(ParityRun p, FeatureConfig cfg, int[] lengths, double amplitude) {
        int batch = lengths.length, total = 0, maxFrames = 1;
        int[] offsets = new int[batch], frames = new int[batch];
        for (int b = 0; b < batch; b++) {
            offsets[b] = total;
            total += lengths[b];
            frames[b] = cfg.numFrames(lengths[b]);
            maxFrames = Math.max(maxFrames, frames[b]);
        }
        float[] signal = p.randn(total, amplitude);
        double[] ref = new double[batch * maxFrames * cfg.nMels()];
        LogMel cpu = new LogMel(cfg);
        for (int b = 0; b < batch; b++) {
            float[] one = java.util.Arrays.copyOfRange(signal, offsets[b], offsets[b] + lengths[b]);
            float[] f = new float[frames[b] * cfg.nMels()];
            cpu.compute(one, f, 0, frames[b]);
            for (int i = 0; i < f.length; i++) ref[b * maxFrames * cfg.nMels() + i] = f[i];
        }
        DeviceBuffer out = p.alloc(ref.length);
        try (CudaLogMel gpu = new CudaLogMel(p.ctx(), cfg)) {
            gpu.compute(out.ptr(), p.upload(signal).ptr(), ints(p, offsets).ptr(), ints(p, lengths).ptr(),
                    ints(p, frames).ptr(), batch, maxFrames);
            p.compare("logmel", p.download(out, ref.length), ref, cfg.nFft(), Tolerance.F32);
        }
    }

    /** A device copy of int32 values, freed when the check ends. */
    private static DeviceBuffer ints(ParityRun p, int[] a) {
        DeviceBuffer b = p.alloc(a.length);
        if (a.length > 0) p.staging().upload(a, 0, a.length, b.ptr());
        return b;
    }
}
