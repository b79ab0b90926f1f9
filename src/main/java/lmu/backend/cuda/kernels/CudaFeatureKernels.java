package lmu.backend.cuda.kernels;

import java.util.concurrent.ConcurrentHashMap;
import lmu.backend.FeatureKernels;
import lmu.backend.cuda.CudaBackend;
import lmu.backend.cuda.CudaStorage;
import lmu.backend.cuda.DeviceBuffer;
import lmu.speech.features.FeatureConfig;
import lmu.tensor.DType;
import lmu.tensor.Tensor;

/**
 * {@link FeatureKernels} on one GPU: {@link CudaLogMel} ({@code kernels/logmel.cu}, one launch per
 * batch) on f32 tensors of a {@link CudaBackend}. The tables of each {@link FeatureConfig} are
 * uploaded on first use and kept until {@link #close()} (the backend closes them with itself);
 * offsets, lengths and frame counts are copied to the device per call. Asynchronous: the result is
 * enqueued on the backend's stream.
 */
public final class CudaFeatureKernels implements FeatureKernels, AutoCloseable {
    private final CudaBackend backend;
    private final ConcurrentHashMap<FeatureConfig, CudaLogMel> logMels = new ConcurrentHashMap<>();

    public CudaFeatureKernels(CudaBackend backend) {
        this.backend = backend;
    }

    @Override
    public Tensor logMel(FeatureConfig cfg, Tensor signal, int[] offsets, int[] lengths) {
        if (!(signal.storage() instanceof CudaStorage s) || s.backend() != backend || signal.dtype() != DType.F32) {
            throw new IllegalArgumentException("LogMel: signal must be an f32 tensor of " + backend.device() + ", got "
                    + signal.dtype() + " on " + signal.device());
        }
        int[] frames = FeatureKernels.frames(cfg, signal, offsets, lengths);
        int batch = frames.length, maxFrames = 0;
        for (int t : frames) maxFrames = Math.max(maxFrames, t);
        Tensor out = backend.empty(DType.F32, batch, maxFrames, cfg.nMels());
        if (batch == 0 || maxFrames == 0) return out;
        CudaLogMel mel = logMels.computeIfAbsent(cfg, c -> new CudaLogMel(backend.context(), c));
        try (DeviceBuffer off = backend.uploadInts(offsets); DeviceBuffer len = backend.uploadInts(lengths);
                DeviceBuffer fr = backend.uploadInts(frames)) {
            mel.compute(((CudaStorage) out.storage()).ptr(), s.ptr(), off.ptr(), len.ptr(), fr.ptr(), batch, maxFrames);
        } // scratch freed in stream order
        return out;
    }

    /** Frees the uploaded tables. */
    @Override
    public void close() {
        logMels.values().forEach(CudaLogMel::close);
        logMels.clear();
    }
}
