package lmu.backend.cuda;

import java.util.List;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.JCudaDriver;
import lmu.backend.StepGraph;

/**
 * A CUDA graph captured from a context's stream ({@code cuStreamBeginCapture} …
 * {@code cuStreamEndCapture}, {@code cuGraphInstantiate}) and launched again with {@code
 * cuGraphLaunch}. During the capture the context's {@link DeviceAllocator} serves every allocation
 * from a private pool that the graph keeps until {@link #close} (so the addresses baked into its
 * launches stay its own), and {@link PinnedStaging} gives every upload a pinned buffer of its own
 * (the values the captured copy reads at each replay). The capture runs in relaxed mode, so that
 * allocating device memory is allowed; a host synchronisation inside it still invalidates it
 * ({@link #end} then throws with the driver's reason).
 *
 * <pre>{@code
 * CudaGraph.Capture c = CudaGraph.begin(ctx, staging);
 * enqueueTheStep();                      // recorded, not run
 * CudaGraph g = c.end();                 // instantiated
 * g.replay();                            // runs it; again for every later step
 * }</pre>
 */
public final class CudaGraph implements StepGraph {
    private final CudaContext ctx;
    private final CUgraph graph;
    private final CUgraphExec exec;
    private final CachingAllocator.Pool<CUdeviceptr> pool;
    private final List<Pointer> pinned;
    private boolean closed;

    private CudaGraph(CudaContext ctx, CUgraph graph, CUgraphExec exec, CachingAllocator.Pool<CUdeviceptr> pool,
            List<Pointer> pinned) {
        this.ctx = ctx;
        this.graph = graph;
        this.exec = exec;
        this.pool = pool;
        this.pinned = pinned;
    }

    /** A capture under way on a context's stream. */
    public static final class Capture {
        private final CudaContext ctx;
        private final PinnedStaging staging;
        private final CachingAllocator.Pool<CUdeviceptr> pool;
        private boolean over;

        private Capture(CudaContext ctx, PinnedStaging staging) {
            this.ctx = ctx;
            this.staging = staging;
            this.pool = ctx.allocator().beginPool();
            staging.beginCapture();
            try {
                Driver.check("cuStreamBeginCapture", () -> JCudaDriver.cuStreamBeginCapture(ctx.stream(),
                        CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_RELAXED), "on " + ctx);
            } catch (RuntimeException e) {
                PinnedStaging.freeCaptured(staging.endCapture());
                ctx.allocator().endPool();
                ctx.allocator().releasePool(pool);
                throw e;
            }
        }

        /**
         * Ends the capture and instantiates the graph (not yet launched).
         *
         * @throws IllegalStateException when the capture is over already, or the driver refuses to
         *     end or instantiate it (the message gives its reason, e.g. a synchronisation inside the capture)
         */
        public CudaGraph end() {
            if (over) throw new IllegalStateException("CudaGraph: the capture is over already");
            over = true;
            CUgraph g = new CUgraph();
            List<Pointer> pinned = staging.endCapture();
            ctx.allocator().endPool();
            int rc = Driver.code(() -> JCudaDriver.cuStreamEndCapture(ctx.stream(), g));
            CUgraphExec exec = new CUgraphExec();
            if (rc == CudaException.CUDA_SUCCESS) rc = Driver.code(() -> JCudaDriver.cuGraphInstantiate(exec, g, 0));
            if (rc != CudaException.CUDA_SUCCESS) {
                final int code = rc;
                JCudaDriver.cuGraphDestroy(g);
                PinnedStaging.freeCaptured(pinned);
                ctx.allocator().releasePool(pool);
                throw new IllegalStateException("CudaGraph: the captured step cannot be replayed on " + ctx + ": "
                        + Driver.exception("cuStreamEndCapture/cuGraphInstantiate", code, "").getMessage());
            }
            return new CudaGraph(ctx, g, exec, pool, pinned);
        }

        /** Ends a capture that failed and drops what it captured; does nothing when it is over. */
        public void abort() {
            if (over) return;
            over = true;
            CUgraph g = new CUgraph();
            int rc = Driver.code(() -> JCudaDriver.cuStreamEndCapture(ctx.stream(), g));
            if (rc == CudaException.CUDA_SUCCESS) JCudaDriver.cuGraphDestroy(g);
            PinnedStaging.freeCaptured(staging.endCapture());
            ctx.allocator().endPool();
            ctx.allocator().releasePool(pool);
        }
    }

    /**
     * Starts capturing the work enqueued on {@code ctx}'s stream.
     *
     * @param staging the uploads' staging of the context's backend
     */
    public static Capture begin(CudaContext ctx, PinnedStaging staging) {
        return new Capture(ctx, staging);
    }

    @Override
    public void replay() {
        if (closed) throw new IllegalStateException("CudaGraph: the graph is closed");
        Driver.check("cuGraphLaunch", () -> JCudaDriver.cuGraphLaunch(exec, ctx.stream()), "on " + ctx);
    }

    /** Waits for its launches, then frees the graph, its private pool and its pinned buffers. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        ctx.synchronize();
        JCudaDriver.cuGraphExecDestroy(exec);
        JCudaDriver.cuGraphDestroy(graph);
        PinnedStaging.freeCaptured(pinned);
        ctx.allocator().releasePool(pool);
    }
}
