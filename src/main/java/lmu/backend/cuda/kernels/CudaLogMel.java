package lmu.backend.cuda.kernels;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;
import lmu.backend.cuda.CudaContext;
import lmu.backend.cuda.DeviceBuffer;
import lmu.backend.cuda.Dim3;
import lmu.backend.cuda.Launch;
import lmu.speech.features.FeatureConfig;

/**
 * Log-mel features on the GPU ({@code kernels/logmel.cu}): the function of {@link
 * lmu.speech.features.LogMel} for a whole batch of signals in one launch, one block per frame. The
 * tables of one {@link FeatureConfig} ({@link LogMelTables}) are uploaded once, when this object is
 * made; {@link #close()} frees them. Asynchronous on the context's stream.
 *
 * <pre>{@code
 * try (CudaLogMel mel = new CudaLogMel(ctx, FeatureConfig.defaults())) {
 *     mel.compute(out, signal, offsets, lengths, frames, batch, maxFrames);
 * }
 * }</pre>
 */
public final class CudaLogMel implements AutoCloseable {
    private final CudaContext ctx;
    private final LogMelTables tables;
    private final DeviceBuffer doubles;
    private final DeviceBuffer melRange;

    /** Uploads the tables of {@code cfg} to {@code ctx}'s device (synchronously). */
    public CudaLogMel(CudaContext ctx, FeatureConfig cfg) {
        this.ctx = ctx;
        this.tables = LogMelTables.of(cfg);
        this.doubles = ctx.allocator().allocate(8L * tables.doubles().length);
        this.melRange = ctx.allocator().allocate(4L * tables.melRange().length);
        ctx.synchronize();
        JCudaDriver.cuMemcpyHtoD(doubles.ptr(), Pointer.to(tables.doubles()), 8L * tables.doubles().length);
        JCudaDriver.cuMemcpyHtoD(melRange.ptr(), Pointer.to(tables.melRange()), 4L * tables.melRange().length);
    }

    public FeatureConfig config() {
        return tables.config();
    }

    /**
     * Features of every utterance of a batch.
     *
     * @param out output, shape (B, maxFrames, nMels); frames t &ge; frames[b] written as 0
     * @param signal float32 samples of every utterance back to back
     * @param offsets int32, shape (B): first sample of utterance b in {@code signal}
     * @param lengths int32, shape (B): samples of utterance b
     * @param frames int32, shape (B): {@code config().numFrames(lengths[b])}, each &le; maxFrames
     * @param batch B &ge; 1, at most 65535
     * @param maxFrames frames per utterance in {@code out}, &ge; 1
     * @throws IllegalArgumentException when B or maxFrames is out of range
     */
    public void compute(CUdeviceptr out, CUdeviceptr signal, CUdeviceptr offsets, CUdeviceptr lengths, CUdeviceptr frames,
            int batch, int maxFrames) {
        if (batch < 1 || batch > 65535) throw new IllegalArgumentException("LogMel: batch : " + batch + " (expected: 1 to 65535)");
        if (maxFrames < 1) throw new IllegalArgumentException("LogMel: maxFrames : " + maxFrames + " (expected: >= 1)");
        FeatureConfig c = tables.config();
        Launch.kernel(ctx, "logmel", "logmel_kernel").grid(new Dim3(maxFrames, batch, 1)).block(LogMelTables.THREADS)
                .sharedBytes(tables.sharedBytes()).ptr(out).ptr(signal).ptr(offsets).ptr(lengths).ptr(frames)
                .ptr(doubles).ptr(melRange).i32(c.nFft()).i32(c.hopLength()).i32(tables.pad()).i32(c.numBins())
                .i32(c.nMels()).i32(maxFrames).f64(c.logEpsilon()).run();
    }

    @Override
    public void close() {
        doubles.close();
        melRange.close();
    }
}
