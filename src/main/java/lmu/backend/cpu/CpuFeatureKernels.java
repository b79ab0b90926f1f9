package lmu.backend.cpu;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import lmu.backend.FeatureKernels;
import lmu.speech.features.FeatureConfig;
import lmu.speech.features.LogMel;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.Tensor;
import lmu.util.Parallel;

/**
 * {@link FeatureKernels} on the CPU: {@link LogMel} per utterance, utterances in parallel on the
 * shared pool ({@link Parallel}); one {@code LogMel} (window and filterbank) kept per {@link
 * FeatureConfig}.
 */
public final class CpuFeatureKernels implements FeatureKernels {
    public static final CpuFeatureKernels INSTANCE = new CpuFeatureKernels();

    private final ConcurrentHashMap<FeatureConfig, LogMel> logMels = new ConcurrentHashMap<>();

    private CpuFeatureKernels() {}

    @Override
    public Tensor logMel(FeatureConfig cfg, Tensor signal, int[] offsets, int[] lengths) {
        if (signal.device().kind() != Device.Kind.CPU || signal.dtype() != DType.F32) {
            throw new IllegalArgumentException("CpuFeatureKernels: signal must be an F32 tensor on the CPU, got " + signal.dtype()
                    + " on " + signal.device());
        }
        int[] frames = FeatureKernels.frames(cfg, signal, offsets, lengths);
        int batch = frames.length, maxFrames = 0, c = cfg.nMels();
        for (int t : frames) maxFrames = Math.max(maxFrames, t);
        LogMel mel = logMels.computeIfAbsent(cfg, LogMel::new);
        float[] x = signal.f32();
        float[] out = new float[batch * maxFrames * c];
        int stride = maxFrames * c;
        Parallel.forRange(batch, 1, (from, to) -> {
            for (int b = from; b < to; b++) {
                if (frames[b] == 0) continue;
                mel.compute(Arrays.copyOfRange(x, offsets[b], offsets[b] + lengths[b]), out, b * stride, frames[b]);
            }
        });
        return Tensor.of(out, batch, maxFrames, c);
    }
}
