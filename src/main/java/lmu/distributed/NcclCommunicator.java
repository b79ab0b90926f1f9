package lmu.distributed;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntSupplier;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nccl;
import org.bytedeco.cuda.nccl.ncclComm;
import org.bytedeco.cuda.nccl.ncclConfig_t;
import org.bytedeco.cuda.nccl.ncclUniqueId;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;

/**
 * One GPU's rank through NCCL ({@code org.bytedeco.cuda.global.nccl}): one instance per GPU, each
 * driven by that GPU's own thread (NCCL's "one device per thread" model), all the GPUs of a node in
 * one JVM. Only this class touches NCCL, and only when CUDA is used; the CPU path never loads it.
 *
 * <p>Creating the ranks:
 * <ul>
 *   <li>one node: {@link #forLocalDevices(int, Duration)}, which makes a unique id and initialises
 *       one communicator per device from the calling thread ({@code ncclGroupStart},
 *       {@code ncclCommInitRankConfig} per device, {@code ncclGroupEnd}: what
 *       {@code ncclCommInitAll} does, but with a time limit);</li>
 *   <li>several nodes: rank 0's process calls {@link #createUniqueId()}, {@link TcpRendezvous}
 *       hands the id to the other processes, and each process calls
 *       {@link #forDevices(int[], byte[], int, int, Duration)} for its GPUs (or each GPU thread
 *       calls the constructor).</li>
 * </ul>
 * Then hand communicator r to GPU r's thread ({@link Ranks#run(List, String, Ranks.Body)} does that
 * and turns a failing rank into an abort of the others).
 *
 * <p>Bounded waits: the communicators are non-blocking ({@code ncclConfig_t.blocking = 0}), so
 * initialisation and every enqueue return at once and this class polls
 * {@code ncclCommGetAsyncError} and the stream. A wait that passes {@link #timeout()}, an
 * asynchronous NCCL error (a peer process died, the network broke), or a failure of another rank
 * of the same {@link Group} (the communicators of one process) aborts this communicator
 * ({@code ncclCommAbort}) and throws {@link CommunicatorException} naming the rank at fault. So
 * one GPU thread that throws stops its siblings at their next poll, and a dead node stops the others
 * through NCCL's error or, at the latest, the timeout.
 *
 * <p>The array methods of {@link Communicator} stage host arrays through pinned host memory and a
 * device buffer (both kept and grown as needed) on this rank's stream: copy in, collective, copy
 * out, one wait. Gradients already on the GPU use {@link #allReduce(List, Op)} (in place on the
 * device, after the kernels that produced them on their backend's stream) or {@link #allReduceDevice}.
 */
public final class NcclCommunicator implements Communicator {
    /** Size of an NCCL unique id in bytes (NCCL_UNIQUE_ID_BYTES). */
    public static final int UNIQUE_ID_BYTES = 128;
    /** ncclConfig_t magic (set by NCCL_CONFIG_INITIALIZER). */
    private static final int CONFIG_MAGIC = 0xcafebeef;
    /** NCCL_CONFIG_UNDEF_INT: "use NCCL's default" for a config field. */
    private static final int UNDEF = Integer.MIN_VALUE;
    /** Polls that spin before each further poll sleeps briefly. */
    private static final int SPIN_POLLS = 10_000;

    /**
     * The communicators of one process. When one rank fails or is aborted, every other rank of the
     * group aborts its communicator at its next poll and throws, naming the first rank at fault.
     */
    public static final class Group {
        private volatile String failure;
        private volatile int failedRank = -1;

        /** Records the first failure; later ones are ignored. */
        synchronized void fail(int rank, String why) {
            if (failure == null) {
                failedRank = rank;
                failure = why;
            }
        }

        /** The first failure, or null. */
        public String failure() {
            return failure;
        }

        /** The rank of the first failure, or -1. */
        public int failedRank() {
            return failedRank;
        }
    }

    private final int rank, size, device;
    private final Duration timeout;
    private final Group group;
    private final ncclComm comm;
    private final CUstream_st stream;
    /** Serialises native calls on this communicator: the owning thread's operations, a foreign abort, close. */
    private final ReentrantLock lock = new ReentrantLock();
    private volatile boolean abortRequested;
    private boolean freed; // ncclCommAbort or ncclCommDestroy done; under lock
    private Pointer deviceBuffer, hostBuffer;
    private long bufferBytes;

    /**
     * Joins the NCCL group as one rank, for one-thread-per-GPU start-up: every rank's thread calls
     * this with the same id; it returns when all {@code size} ranks joined, or throws after the
     * timeout.
     *
     * @param device CUDA device index of this rank
     * @param uniqueId the id from rank 0's {@link #createUniqueId()}, {@value #UNIQUE_ID_BYTES} bytes
     * @param group the other communicators of this process (shared failure), or null for none
     * @throws IllegalArgumentException when the id has the wrong length or rank/size are impossible
     * @throws CommunicatorException when CUDA or NCCL fail, or the group did not form in time
     */
    public NcclCommunicator(int device, byte[] uniqueId, int rank, int size, Duration timeout, Group group) {
        this(device, checkedRank(uniqueId, rank, size), size, timeout, group == null ? new Group() : group);
        ncclConfig_t config = nonBlockingConfig();
        try {
            long deadline = System.nanoTime() + timeout.toNanos();
            check("ncclCommInitRankConfig(" + size + " ranks, rank " + rank + ")",
                    nccl.ncclCommInitRankConfig(comm, size, id(uniqueId), rank, config));
            awaitInit(List.of(this), deadline);
        } catch (RuntimeException | Error e) {
            abort(e);
            close();
            throw e;
        } finally {
            config.close();
        }
    }

    /** As {@link #NcclCommunicator(int, byte[], int, int, Duration, Group)} without a group. */
    public NcclCommunicator(int device, byte[] uniqueId, int rank, int size, Duration timeout) {
        this(device, uniqueId, rank, size, timeout, null);
    }

    /** Creates the stream; the caller initialises {@link #comm}. */
    private NcclCommunicator(int device, int rank, int size, Duration timeout, Group group) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("NcclCommunicator: timeout must be > 0, got " + timeout);
        }
        this.rank = rank;
        this.size = size;
        this.device = device;
        this.timeout = timeout;
        this.group = group;
        this.comm = new ncclComm();
        this.stream = new CUstream_st();
        cuda("cudaSetDevice(" + device + ")", cudart.cudaSetDevice(device));
        cuda("cudaStreamCreateWithFlags", cudart.cudaStreamCreateWithFlags(stream, cudart.cudaStreamNonBlocking));
    }

    /** Checks the id's length and the rank; returns the rank. */
    private static int checkedRank(byte[] uniqueId, int rank, int size) {
        if (uniqueId.length != UNIQUE_ID_BYTES) {
            throw new IllegalArgumentException("NcclCommunicator: uniqueId must have " + UNIQUE_ID_BYTES + " bytes, got " + uniqueId.length);
        }
        if (size < 1 || rank < 0 || rank >= size) {
            throw new IllegalArgumentException("NcclCommunicator: expected 0 <= rank < size, got rank " + rank + ", size " + size);
        }
        return rank;
    }

    private static ncclUniqueId id(byte[] uniqueId) {
        ncclUniqueId id = new ncclUniqueId();
        id.internal().put(uniqueId, 0, UNIQUE_ID_BYTES);
        return id;
    }

    /**
     * The communicators of this process's GPUs, initialised together from the calling thread
     * (ncclGroupStart, one ncclCommInitRankConfig per device, ncclGroupEnd), sharing one
     * {@link Group}. Element i is rank {@code firstRank + i} on {@code devices[i]}; use each from
     * one thread at a time (its GPU's thread).
     *
     * @param devices CUDA device indices, one rank each
     * @param uniqueId the id from rank 0's {@link #createUniqueId()}
     * @param firstRank the rank of devices[0] (node * GPUs per node)
     * @param size ranks in the whole job
     * @throws CommunicatorException when CUDA or NCCL fail or not all ranks joined within the timeout
     */
    public static List<NcclCommunicator> forDevices(int[] devices, byte[] uniqueId, int firstRank, int size, Duration timeout) {
        if (devices.length == 0 || firstRank < 0 || firstRank + devices.length > size) {
            throw new IllegalArgumentException("NcclCommunicator: need 1 or more devices with ranks firstRank .. firstRank + devices - 1"
                    + " inside [0, size), got " + devices.length + " devices, firstRank " + firstRank + ", size " + size);
        }
        checkedRank(uniqueId, firstRank, size);
        Group group = new Group();
        List<NcclCommunicator> out = new ArrayList<>();
        ncclUniqueId id = id(uniqueId);
        ncclConfig_t config = nonBlockingConfig();
        try {
            for (int i = 0; i < devices.length; i++) {
                out.add(new NcclCommunicator(devices[i], firstRank + i, size, timeout, group));
            }
            long deadline = System.nanoTime() + timeout.toNanos();
            int r = nccl.ncclGroupStart();
            if (r != nccl.ncclSuccess) throw new CommunicatorException("ncclGroupStart failed: " + errorString(r), -1);
            int failed = nccl.ncclSuccess;
            String what = "";
            for (NcclCommunicator c : out) {
                c.cuda("cudaSetDevice(" + c.device + ")", cudart.cudaSetDevice(c.device));
                r = nccl.ncclCommInitRankConfig(c.comm, size, id, c.rank, config);
                if (r != nccl.ncclSuccess && r != nccl.ncclInProgress && failed == nccl.ncclSuccess) {
                    failed = r;
                    what = "ncclCommInitRankConfig(rank " + c.rank + ", device " + c.device + ")";
                }
            }
            r = nccl.ncclGroupEnd();
            if (failed != nccl.ncclSuccess) throw new CommunicatorException("NcclCommunicator: " + what + " failed: " + errorString(failed), -1);
            if (r != nccl.ncclSuccess && r != nccl.ncclInProgress) {
                throw new CommunicatorException("NcclCommunicator: ncclGroupEnd after initialising " + devices.length + " ranks failed: "
                        + errorString(r), -1);
            }
            awaitInit(out, deadline);
            return out;
        } catch (RuntimeException | Error e) {
            for (NcclCommunicator c : out) {
                c.abort(e);
                c.close();
            }
            throw e;
        } finally {
            config.close();
        }
    }

    /**
     * One node: a communicator for each of devices 0 .. n - 1, ranks 0 .. n - 1.
     *
     * @throws CommunicatorException as for {@link #forDevices}
     */
    public static List<NcclCommunicator> forLocalDevices(int n, Duration timeout) {
        int[] devices = new int[n];
        for (int i = 0; i < n; i++) devices[i] = i;
        return forDevices(devices, createUniqueId(), 0, n, timeout);
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

    /** The version of the loaded NCCL library, e.g. "2.27.7". */
    public static String libraryVersion() {
        int[] v = new int[1];
        int r = nccl.ncclGetVersion(v);
        if (r != nccl.ncclSuccess) return "unknown (" + errorString(r) + ")";
        int code = v[0]; // NCCL_VERSION(X, Y, Z) = X * 10000 + Y * 100 + Z since 2.9
        return code >= 10000 ? (code / 10000) + "." + (code / 100 % 100) + "." + (code % 100)
                : (code / 1000) + "." + (code / 100 % 10) + "." + (code % 100);
    }

    /**
     * A config as NCCL_CONFIG_INITIALIZER makes it (every field "undefined", i.e. NCCL's default),
     * except blocking = 0: calls return ncclInProgress and this class polls, so no call can hang.
     */
    private static ncclConfig_t nonBlockingConfig() {
        ncclConfig_t c = new ncclConfig_t();
        c.size(Loader.sizeof(ncclConfig_t.class)).magic(CONFIG_MAGIC).version(nccl.NCCL_VERSION_CODE);
        c.blocking(0).cgaClusterSize(UNDEF).minCTAs(UNDEF).maxCTAs(UNDEF).netName(null).splitShare(UNDEF).trafficClass(UNDEF)
                .commName(null).collnetEnable(UNDEF).CTAPolicy(UNDEF).shrinkShare(UNDEF).nvlsCTAs(UNDEF).nChannelsPerNetPeer(UNDEF)
                .nvlinkCentricSched(UNDEF).graphUsageMode(UNDEF).numRmaCtx(UNDEF);
        return c;
    }

    /** Polls each communicator until its initialisation finished, failed or the deadline passed. */
    private static void awaitInit(List<NcclCommunicator> comms, long deadline) {
        for (NcclCommunicator c : comms) {
            c.lock.lock();
            try {
                c.awaitEnqueued("initialisation (" + c.size + " ranks; waiting for the others to join)", deadline);
            } finally {
                c.lock.unlock();
            }
        }
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

    /** The CUDA device of this rank. */
    public int device() {
        return device;
    }

    /** The communicators of this process that fail together. */
    public Group group() {
        return group;
    }

    /**
     * In-place all-reduce of {@code count} float32 values already on this rank's GPU. The kernels
     * that produced them must have finished (synchronise their stream first): this rank's stream
     * does not wait for other streams.
     *
     * @param data device pointer
     * @throws CommunicatorException as for {@link #allReduce(float[], int, int, Op)}
     */
    public void allReduceDevice(Pointer data, long count, Op op) {
        run("allReduce(float32, " + count + " on the device)", () -> nccl.ncclAllReduce(data, data, count, nccl.ncclFloat32,
                ncclOp(op), comm, stream));
    }

    /**
     * In-place all-reduce of float32 tensors in this rank's GPU memory ({@code CudaStorage}), one
     * NCCL group call; nothing is copied to the host. Ordering: an event recorded on the stream of
     * the tensors' backend marks the kernels enqueued there so far (those that produced the
     * tensors); this communicator's own stream waits for it and runs the reduction, so the kernels
     * the rank's thread queues on the backend's stream meanwhile (the rest of the backward pass)
     * overlap it. Returns once the reduction has finished on the device (an event after it), a
     * wait bounded by {@link #timeout()}, NCCL's asynchronous error and the group's failure; kernels
     * enqueued after the return therefore see the result. Host tensors go through {@link
     * Communicator#allReduce(List, Op) the staged array path}.
     *
     * @throws IllegalArgumentException when a tensor is not float32, or on another GPU than this rank's
     * @throws CommunicatorException as for {@link #allReduce(float[], int, int, Op)}
     */
    @Override
    public void allReduce(List<lmu.tensor.Tensor> tensors, Op op) {
        if (tensors.isEmpty()) return;
        if (!(tensors.get(0).storage() instanceof lmu.backend.cuda.CudaStorage first)) {
            Communicator.super.allReduce(tensors, op);
            return;
        }
        long[] addresses = new long[tensors.size()];
        long total = 0;
        for (int i = 0; i < addresses.length; i++) {
            lmu.tensor.Tensor t = tensors.get(i);
            if (!(t.storage() instanceof lmu.backend.cuda.CudaStorage c) || c.dtype() != lmu.tensor.DType.F32
                    || c.backend() != first.backend()) {
                throw new IllegalArgumentException("NcclCommunicator.allReduce: tensor " + i + " must be float32 on " + first.device()
                        + " like tensor 0, got " + t.dtype() + " on " + t.device());
            }
            if (c.device().index() != device) {
                throw new IllegalArgumentException("NcclCommunicator.allReduce: rank " + rank + " runs on device " + device
                        + ", got a tensor on " + c.device());
            }
            addresses[i] = c.address();
            total += t.numel();
        }
        CUstream_st producer = new CUstream_st(new Pointer() {
            {
                address = first.backend().streamHandle();
            }
        });
        String what = "allReduce(" + tensors.size() + " float32 tensors, " + total + " values on the device)";
        lock.lock();
        try {
            throwIfBroken(what);
            setDevice();
            long deadline = System.nanoTime() + timeout.toNanos();
            CUevent_st produced = event(what);
            try {
                cuda(what + ": cudaEventRecord on the backend's stream", cudart.cudaEventRecord(produced, producer));
                cuda(what + ": cudaStreamWaitEvent", cudart.cudaStreamWaitEvent(stream, produced, 0));
            } finally {
                cudart.cudaEventDestroy(produced); // released once recorded work completes
            }
            check(what + ": ncclGroupStart", nccl.ncclGroupStart());
            int failed = nccl.ncclSuccess;
            for (int i = 0; i < addresses.length; i++) {
                long a = addresses[i];
                Pointer p = new Pointer() {
                    {
                        address = a;
                    }
                };
                int r = nccl.ncclAllReduce(p, p, tensors.get(i).numel(), nccl.ncclFloat32, ncclOp(op), comm, stream);
                if (r != nccl.ncclSuccess && r != nccl.ncclInProgress && failed == nccl.ncclSuccess) failed = r;
            }
            int end = nccl.ncclGroupEnd();
            check(what, failed);
            check(what + ": ncclGroupEnd", end);
            awaitEnqueued(what, deadline);
            CUevent_st done = event(what);
            try {
                cuda(what + ": cudaEventRecord", cudart.cudaEventRecord(done, stream));
                awaitEvent(what, done, deadline);
            } finally {
                cudart.cudaEventDestroy(done);
            }
        } finally {
            lock.unlock();
        }
    }

    /** A new event without timing. */
    private CUevent_st event(String what) {
        CUevent_st e = new CUevent_st();
        cuda(what + ": cudaEventCreateWithFlags", cudart.cudaEventCreateWithFlags(e, cudart.cudaEventDisableTiming));
        return e;
    }

    @Override
    public void allReduce(float[] buf, int off, int len, Op op) {
        Communicator.checkRange("allReduce", buf.length, off, len);
        staged("allReduce(float32, " + len + ")", 4L * len, 4L * len,
                host -> new FloatPointer(host).capacity(len).put(buf, off, len),
                dev -> nccl.ncclAllReduce(dev, dev, len, nccl.ncclFloat32, ncclOp(op), comm, stream),
                host -> new FloatPointer(host).capacity(len).get(buf, off, len));
    }

    @Override
    public void allReduce(double[] buf, int off, int len, Op op) {
        Communicator.checkRange("allReduce", buf.length, off, len);
        staged("allReduce(float64, " + len + ")", 8L * len, 8L * len,
                host -> new DoublePointer(host).capacity(len).put(buf, off, len),
                dev -> nccl.ncclAllReduce(dev, dev, len, nccl.ncclFloat64, ncclOp(op), comm, stream),
                host -> new DoublePointer(host).capacity(len).get(buf, off, len));
    }

    @Override
    public void broadcast(float[] buf, int off, int len, int root) {
        Communicator.checkRange("broadcast", buf.length, off, len);
        Communicator.checkRoot("broadcast", root, size);
        staged("broadcast(float32, " + len + ", root " + root + ")", 4L * len, 4L * len,
                host -> new FloatPointer(host).capacity(len).put(buf, off, len),
                dev -> nccl.ncclBroadcast(dev, dev, len, nccl.ncclFloat32, root, comm, stream),
                host -> new FloatPointer(host).capacity(len).get(buf, off, len));
    }

    @Override
    public void broadcast(double[] buf, int off, int len, int root) {
        Communicator.checkRange("broadcast", buf.length, off, len);
        Communicator.checkRoot("broadcast", root, size);
        staged("broadcast(float64, " + len + ", root " + root + ")", 8L * len, 8L * len,
                host -> new DoublePointer(host).capacity(len).put(buf, off, len),
                dev -> nccl.ncclBroadcast(dev, dev, len, nccl.ncclFloat64, root, comm, stream),
                host -> new DoublePointer(host).capacity(len).get(buf, off, len));
    }

    @Override
    public void allGather(float[] send, float[] recv) {
        checkGather(send.length, recv.length);
        int n = send.length;
        // in place: this rank's values go to its own slot of the receive buffer
        staged("allGather(float32, " + n + ")", 4L * recv.length, 4L * recv.length,
                host -> new FloatPointer(host).capacity(recv.length).position((long) rank * n).put(send, 0, n),
                dev -> nccl.ncclAllGather(new BytePointer(dev).position(4L * rank * n), dev, n, nccl.ncclFloat32, comm, stream),
                host -> new FloatPointer(host).capacity(recv.length).get(recv));
    }

    @Override
    public void allGather(double[] send, double[] recv) {
        checkGather(send.length, recv.length);
        int n = send.length;
        staged("allGather(float64, " + n + ")", 8L * recv.length, 8L * recv.length,
                host -> new DoublePointer(host).capacity(recv.length).position((long) rank * n).put(send, 0, n),
                dev -> nccl.ncclAllGather(new BytePointer(dev).position(8L * rank * n), dev, n, nccl.ncclFloat64, comm, stream),
                host -> new DoublePointer(host).capacity(recv.length).get(recv));
    }

    private void checkGather(int send, int recv) {
        if ((long) send * size != recv) {
            throw new IllegalArgumentException("allGather: recv must hold size * send.length = " + size + " * " + send + " values, got " + recv);
        }
    }

    @Override
    public void barrier() {
        allReduce(new float[1], Op.SUM);
    }

    /**
     * Marks this rank failed for its {@link Group} and aborts its communicator: at once when no
     * operation is running, otherwise by the operation's thread at its next poll. Callable from any
     * thread; safe to call twice.
     */
    @Override
    public void abort(Throwable cause) {
        group.fail(rank, "rank " + rank + " (device " + device + ") failed: " + cause);
        abortRequested = true;
        if (lock.tryLock()) {
            try {
                abortLocked();
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Frees the communicator (ncclCommFinalize, then ncclCommDestroy; ncclCommAbort instead when
     * this group failed or finalising does not finish in time), the stream and the staging buffers.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            if (!freed) {
                if (abortRequested || group.failure() != null) {
                    abortLocked();
                } else {
                    setDevice(); // non-blocking: finalize (flushes pending work), wait for it, then free
                    int r = nccl.ncclCommFinalize(comm);
                    boolean finalized = false;
                    try {
                        if (r != nccl.ncclSuccess && r != nccl.ncclInProgress) fail("ncclCommFinalize failed: " + errorString(r), rank);
                        awaitEnqueued("close (ncclCommFinalize)", System.nanoTime() + timeout.toNanos());
                        finalized = true;
                    } catch (CommunicatorException e) {
                        // fail() aborted and freed the communicator
                    }
                    if (finalized) {
                        nccl.ncclCommDestroy(comm);
                        freed = true;
                    }
                }
            }
            freeBuffers();
            cudart.cudaStreamDestroy(stream);
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- internals

    private interface HostAccess {
        void apply(Pointer host);
    }

    private interface Enqueue {
        int apply(Pointer dev);
    }

    /** Copy in, collective, copy out on this rank's stream through the staging buffers. */
    private void staged(String what, long inBytes, long outBytes, HostAccess fill, Enqueue op, HostAccess read) {
        lock.lock();
        try {
            throwIfBroken(what);
            setDevice();
            ensureBuffers(Math.max(Math.max(inBytes, outBytes), 8));
            fill.apply(hostBuffer);
            cuda(what + ": copy to the device", cudart.cudaMemcpyAsync(deviceBuffer, hostBuffer, inBytes, cudart.cudaMemcpyHostToDevice, stream));
            long deadline = System.nanoTime() + timeout.toNanos();
            check(what, op.apply(deviceBuffer));
            awaitEnqueued(what, deadline); // the kernel must be on the stream before the copy back is
            cuda(what + ": copy to the host", cudart.cudaMemcpyAsync(hostBuffer, deviceBuffer, outBytes, cudart.cudaMemcpyDeviceToHost, stream));
            awaitStream(what, deadline);
            read.apply(hostBuffer);
        } finally {
            lock.unlock();
        }
    }

    /** A collective on device memory: enqueue, wait until enqueued, wait for the stream. */
    private void run(String what, IntSupplier enqueue) {
        lock.lock();
        try {
            throwIfBroken(what);
            setDevice();
            long deadline = System.nanoTime() + timeout.toNanos();
            check(what, enqueue.getAsInt());
            awaitEnqueued(what, deadline);
            awaitStream(what, deadline);
        } finally {
            lock.unlock();
        }
    }

    private void ensureBuffers(long bytes) {
        if (bytes <= bufferBytes) return;
        freeBuffers();
        long grown = Math.max(bytes, Math.min(2 * bufferBytes, bytes + (64L << 20)));
        Pointer d = new Pointer(), h = new Pointer();
        cuda("cudaMalloc(" + grown + " bytes)", cudart.cudaMalloc(d, grown));
        int r = cudart.cudaMallocHost(h, grown);
        if (r != cudart.cudaSuccess) {
            cudart.cudaFree(d);
            cuda("cudaMallocHost(" + grown + " bytes)", r);
        }
        deviceBuffer = d;
        hostBuffer = h.capacity(grown);
        bufferBytes = grown;
    }

    private void freeBuffers() {
        if (deviceBuffer != null) cudart.cudaFree(deviceBuffer);
        if (hostBuffer != null) cudart.cudaFreeHost(hostBuffer);
        deviceBuffer = hostBuffer = null;
        bufferBytes = 0;
    }

    /**
     * Non-blocking NCCL: waits while the communicator reports ncclInProgress (initialisation, or
     * the last call not yet enqueued); an error, the group's failure, an abort or the deadline
     * abort the communicator and throw.
     */
    private void awaitEnqueued(String what, long deadline) {
        int[] state = new int[1];
        for (int polls = 0; ; polls++) {
            int r = nccl.ncclCommGetAsyncError(comm, state);
            if (r != nccl.ncclSuccess) fail(what + ": ncclCommGetAsyncError returned " + errorString(r), rank);
            if (state[0] == nccl.ncclSuccess) return;
            if (state[0] != nccl.ncclInProgress) {
                fail(what + ": NCCL reported " + errorString(state[0]) + " (a peer failed or the network broke)", -1);
            }
            pollChecks(what, deadline, polls);
        }
    }

    /** Waits for this rank's stream, watching NCCL's asynchronous error, the group and the deadline. */
    private void awaitStream(String what, long deadline) {
        awaitCompletion(what, () -> cudart.cudaStreamQuery(stream), deadline);
    }

    /** As {@link #awaitStream(String, long)} until {@code event} has happened. */
    private void awaitEvent(String what, CUevent_st event, long deadline) {
        awaitCompletion(what, () -> cudart.cudaEventQuery(event), deadline);
    }

    /** Polls {@code query} (cudaSuccess: done, cudaErrorNotReady: pending) with the checks of {@link #pollChecks}. */
    private void awaitCompletion(String what, IntSupplier query, long deadline) {
        int[] state = new int[1];
        for (int polls = 0; ; polls++) {
            int q = query.getAsInt();
            if (q == cudart.cudaSuccess) return;
            if (q != cudart.cudaErrorNotReady) fail(what + " failed on the stream: " + cudart.cudaGetErrorString(q).getString(), rank);
            nccl.ncclCommGetAsyncError(comm, state);
            if (state[0] != nccl.ncclSuccess && state[0] != nccl.ncclInProgress) {
                fail(what + ": NCCL reported " + errorString(state[0]) + " (a peer failed or the network broke)", -1);
            }
            pollChecks(what, deadline, polls);
        }
    }

    /** Between polls: the group, an abort, the deadline; spins at first, then sleeps 50 µs so a long wait leaves the CPU to others. */
    private void pollChecks(String what, long deadline, int polls) {
        String other = group.failure();
        if (other != null) fail(what + " stopped: " + other, group.failedRank());
        if (abortRequested) fail(what + " stopped: this rank was aborted", rank);
        if (System.nanoTime() > deadline) {
            fail(what + " did not finish within " + InProcessCommunicator.human(timeout) + " (a peer is hung, dead or called"
                    + " another operation)", -1);
        }
        if (polls < SPIN_POLLS) Thread.onSpinWait();
        else LockSupport.parkNanos(50_000);
    }

    /** Aborts this communicator (lock held), records the failure for the group and throws. */
    private void fail(String message, int failedRank) {
        group.fail(failedRank < 0 ? rank : failedRank, "rank " + rank + ": " + message);
        abortLocked();
        throw new CommunicatorException("NcclCommunicator rank " + rank + " (device " + device + "): " + message
                + "; communicator aborted", failedRank);
    }

    private void abortLocked() {
        if (!freed) {
            freed = true;
            setDevice();
            nccl.ncclCommAbort(comm);
        }
    }

    private void throwIfBroken(String what) {
        if (freed || abortRequested || group.failure() != null) {
            String why = group.failure() != null ? group.failure() : "the communicator was aborted or closed";
            abortLocked();
            throw new CommunicatorException("NcclCommunicator rank " + rank + ": cannot run " + what + ": " + why, group.failedRank());
        }
    }

    private void setDevice() {
        cudart.cudaSetDevice(device); // per thread: the operation may run on another thread than the last one
    }

    private static int ncclOp(Op op) {
        return op == Op.SUM ? nccl.ncclSum : nccl.ncclMax;
    }

    private void check(String what, int r) {
        if (r != nccl.ncclSuccess && r != nccl.ncclInProgress) {
            group.fail(rank, "rank " + rank + ": " + what + " failed: " + errorString(r));
            throw new CommunicatorException("NcclCommunicator rank " + rank + " (device " + device + "): " + what + " failed: "
                    + errorString(r), rank);
        }
    }

    private void cuda(String what, int r) {
        if (r != cudart.cudaSuccess) {
            throw new CommunicatorException("NcclCommunicator rank " + rank + " (device " + device + "): " + what + " failed: "
                    + cudart.cudaGetErrorString(r).getString(), rank);
        }
    }

    private static String errorString(int r) {
        return nccl.ncclGetErrorString(r).getString() + " (" + r + ")";
    }
}
