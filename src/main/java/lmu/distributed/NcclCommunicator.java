package lmu.distributed;

import java.time.Duration;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nccl;
import org.bytedeco.cuda.nccl.ncclComm;
import org.bytedeco.cuda.nccl.ncclUniqueId;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * One GPU's rank through NCCL ({@code org.bytedeco.cuda.global.nccl}); one instance per GPU, each
 * used by that GPU's thread. Rank 0's process creates the unique id ({@link #createUniqueId()}) and
 * {@link TcpRendezvous} hands it to the other processes. Only this class touches NCCL, and only when
 * CUDA is used; the CPU path never loads it.
 *
 * <p>The array methods of {@link Communicator} stage host arrays through a device buffer (for
 * control values and tests; gradients already on the GPU would use {@link #allReduceDevice}).
 * Every operation waits on its stream by polling, and after {@link #timeout()} or an asynchronous
 * NCCL error it aborts the communicator ({@code ncclCommAbort}) so no rank hangs.
 */
public final class NcclCommunicator implements Communicator {
    /** Size of an NCCL unique id in bytes (NCCL_UNIQUE_ID_BYTES). */
    public static final int UNIQUE_ID_BYTES = 128;

    private final int rank, size, device;
    private final Duration timeout;
    private final ncclComm comm = new ncclComm();
    private final CUstream_st stream = new CUstream_st();
    private volatile boolean broken;

    /**
     * Joins the NCCL group; blocks until all {@code size} ranks have called it.
     *
     * @param device CUDA device index of this rank
     * @param uniqueId the id from rank 0's {@link #createUniqueId()}, {@value #UNIQUE_ID_BYTES} bytes
     * @throws IllegalArgumentException when the id has the wrong length
     * @throws CommunicatorException when CUDA or NCCL fail
     */
    public NcclCommunicator(int device, byte[] uniqueId, int rank, int size, Duration timeout) {
        if (uniqueId.length != UNIQUE_ID_BYTES) {
            throw new IllegalArgumentException("NcclCommunicator: uniqueId must have " + UNIQUE_ID_BYTES + " bytes, got " + uniqueId.length);
        }
        this.rank = rank;
        this.size = size;
        this.device = device;
        this.timeout = timeout;
        cuda("cudaSetDevice(" + device + ")", cudart.cudaSetDevice(device));
        cuda("cudaStreamCreate", cudart.cudaStreamCreate(stream));
        ncclUniqueId id = new ncclUniqueId();
        id.internal().put(uniqueId, 0, UNIQUE_ID_BYTES);
        check("ncclCommInitRank(" + size + ", rank " + rank + ")", nccl.ncclCommInitRank(comm, size, id, rank));
    }

    /** A new unique id (on rank 0's process), to be shared through the rendezvous. */
    public static byte[] createUniqueId() {
        ncclUniqueId id = new ncclUniqueId();
        int r = nccl.ncclGetUniqueId(id);
        if (r != nccl.ncclSuccess) throw new CommunicatorException("ncclGetUniqueId failed: " + errorString(r), 0);
        byte[] b = new byte[UNIQUE_ID_BYTES];
        id.internal().get(b, 0, UNIQUE_ID_BYTES);
        return b;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public Duration timeout() {
        return timeout;
    }

    /**
     * In-place all-reduce of {@code count} float32 values already on this rank's GPU.
     *
     * @param data device pointer
     */
    public void allReduceDevice(Pointer data, long count, Op op) {
        throwIfBroken();
        check("ncclAllReduce", nccl.ncclAllReduce(data, data, count, nccl.ncclFloat32, ncclOp(op), comm, stream));
        await("allReduce");
    }

    @Override
    public void allReduce(float[] buf, int off, int len, Op op) {
        Communicator.checkRange("allReduce", buf.length, off, len);
        try (FloatPointer host = new FloatPointer(len)) {
            host.put(buf, off, len);
            Pointer dev = upload(host, 4L * len);
            try {
                check("ncclAllReduce", nccl.ncclAllReduce(dev, dev, len, nccl.ncclFloat32, ncclOp(op), comm, stream));
                await("allReduce");
                download(host, dev, 4L * len);
                host.get(buf, off, len);
            } finally {
                cudart.cudaFree(dev);
            }
        }
    }

    @Override
    public void allReduce(double[] buf, int off, int len, Op op) {
        Communicator.checkRange("allReduce", buf.length, off, len);
        try (DoublePointer host = new DoublePointer(len)) {
            host.put(buf, off, len);
            Pointer dev = upload(host, 8L * len);
            try {
                check("ncclAllReduce", nccl.ncclAllReduce(dev, dev, len, nccl.ncclFloat64, ncclOp(op), comm, stream));
                await("allReduce");
                download(host, dev, 8L * len);
                host.get(buf, off, len);
            } finally {
                cudart.cudaFree(dev);
            }
        }
    }

    @Override
    public void broadcast(float[] buf, int off, int len, int root) {
        Communicator.checkRange("broadcast", buf.length, off, len);
        Communicator.checkRoot("broadcast", root, size);
        try (FloatPointer host = new FloatPointer(len)) {
            host.put(buf, off, len);
            Pointer dev = upload(host, 4L * len);
            try {
                check("ncclBroadcast", nccl.ncclBroadcast(dev, dev, len, nccl.ncclFloat32, root, comm, stream));
                await("broadcast");
                download(host, dev, 4L * len);
                host.get(buf, off, len);
            } finally {
                cudart.cudaFree(dev);
            }
        }
    }

    @Override
    public void broadcast(double[] buf, int off, int len, int root) {
        Communicator.checkRange("broadcast", buf.length, off, len);
        Communicator.checkRoot("broadcast", root, size);
        try (DoublePointer host = new DoublePointer(len)) {
            host.put(buf, off, len);
            Pointer dev = upload(host, 8L * len);
            try {
                check("ncclBroadcast", nccl.ncclBroadcast(dev, dev, len, nccl.ncclFloat64, root, comm, stream));
                await("broadcast");
                download(host, dev, 8L * len);
                host.get(buf, off, len);
            } finally {
                cudart.cudaFree(dev);
            }
        }
    }

    @Override
    public void allGather(float[] send, float[] recv) {
        if ((long) send.length * size != recv.length) {
            throw new IllegalArgumentException("allGather: recv must hold size * send.length = " + size + " * " + send.length
                    + " values, got " + recv.length);
        }
        try (FloatPointer host = new FloatPointer(recv.length)) {
            host.put(send, 0, send.length);
            Pointer dev = upload(host, 4L * recv.length);
            try {
                if (rank > 0) {
                    cuda("cudaMemcpy", cudart.cudaMemcpy(new BytePointer(dev).position(4L * rank * send.length), dev, 4L * send.length,
                            cudart.cudaMemcpyDeviceToDevice));
                }
                // in place: this rank's values sit at its own offset of the receive buffer
                check("ncclAllGather", nccl.ncclAllGather(new BytePointer(dev).position(4L * rank * send.length), dev, send.length,
                        nccl.ncclFloat32, comm, stream));
                await("allGather");
                download(host, dev, 4L * recv.length);
                host.get(recv);
            } finally {
                cudart.cudaFree(dev);
            }
        }
    }

    @Override
    public void allGather(double[] send, double[] recv) {
        if ((long) send.length * size != recv.length) {
            throw new IllegalArgumentException("allGather: recv must hold size * send.length = " + size + " * " + send.length
                    + " values, got " + recv.length);
        }
        try (DoublePointer host = new DoublePointer(recv.length)) {
            host.put(send, 0, send.length);
            Pointer dev = upload(host, 8L * recv.length);
            try {
                if (rank > 0) {
                    cuda("cudaMemcpy", cudart.cudaMemcpy(new BytePointer(dev).position(8L * rank * send.length), dev, 8L * send.length,
                            cudart.cudaMemcpyDeviceToDevice));
                }
                check("ncclAllGather", nccl.ncclAllGather(new BytePointer(dev).position(8L * rank * send.length), dev, send.length,
                        nccl.ncclFloat64, comm, stream));
                await("allGather");
                download(host, dev, 8L * recv.length);
                host.get(recv);
            } finally {
                cudart.cudaFree(dev);
            }
        }
    }

    @Override
    public void barrier() {
        allReduce(new float[1], Op.SUM);
    }

    @Override
    public void abort(Throwable cause) {
        if (!broken) {
            broken = true;
            nccl.ncclCommAbort(comm);
        }
    }

    @Override
    public void close() {
        if (!broken) nccl.ncclCommDestroy(comm);
        broken = true;
        cudart.cudaStreamDestroy(stream);
    }

    private Pointer upload(Pointer host, long bytes) {
        throwIfBroken();
        cuda("cudaSetDevice(" + device + ")", cudart.cudaSetDevice(device));
        Pointer dev = new Pointer();
        cuda("cudaMalloc(" + bytes + " bytes)", cudart.cudaMalloc(dev, Math.max(bytes, 4)));
        cuda("cudaMemcpy host to device", cudart.cudaMemcpy(dev, host, bytes, cudart.cudaMemcpyHostToDevice));
        return dev;
    }

    private void download(Pointer host, Pointer dev, long bytes) {
        cuda("cudaMemcpy device to host", cudart.cudaMemcpy(host, dev, bytes, cudart.cudaMemcpyDeviceToHost));
    }

    /** Polls the stream until the collective finished, an asynchronous NCCL error shows up, or the timeout. */
    private void await(String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int[] async = new int[1];
        while (true) {
            int q = cudart.cudaStreamQuery(stream);
            if (q == cudart.cudaSuccess) return;
            if (q != cudart.cudaErrorNotReady) {
                abort(null);
                throw new CommunicatorException("NcclCommunicator rank " + rank + ": " + what + " failed on the stream: "
                        + cudart.cudaGetErrorString(q).getString(), -1);
            }
            nccl.ncclCommGetAsyncError(comm, async);
            if (async[0] != nccl.ncclSuccess && async[0] != nccl.ncclInProgress) {
                abort(null);
                throw new CommunicatorException("NcclCommunicator rank " + rank + ": " + what + ": NCCL reported "
                        + errorString(async[0]) + " (a peer failed or the network broke)", -1);
            }
            if (System.nanoTime() > deadline) {
                abort(null);
                throw new CommunicatorException("NcclCommunicator rank " + rank + ": " + what + " did not finish within "
                        + InProcessCommunicator.human(timeout) + "; communicator aborted (a peer is hung, dead or took another branch)", -1);
            }
            Thread.onSpinWait();
        }
    }

    private void throwIfBroken() {
        if (broken) throw new CommunicatorException("NcclCommunicator rank " + rank + ": the communicator was aborted or closed", -1);
    }

    private static int ncclOp(Op op) {
        return op == Op.SUM ? nccl.ncclSum : nccl.ncclMax;
    }

    private void check(String what, int r) {
        if (r != nccl.ncclSuccess && r != nccl.ncclInProgress) {
            throw new CommunicatorException("NcclCommunicator rank " + rank + " (device " + device + "): " + what + " failed: "
                    + errorString(r), -1);
        }
    }

    private void cuda(String what, int r) {
        if (r != cudart.cudaSuccess) {
            throw new CommunicatorException("NcclCommunicator rank " + rank + " (device " + device + "): " + what + " failed: "
                    + cudart.cudaGetErrorString(r).getString(), -1);
        }
    }

    private static String errorString(int r) {
        return nccl.ncclGetErrorString(r).getString() + " (" + r + ")";
    }
}
