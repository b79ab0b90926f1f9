package lmu.distributed;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * CPU ranks in separate processes (one rank per process), connected in a star through rank 0 by
 * {@link TcpRendezvous}. Every operation sends this rank's contribution to rank 0, which checks
 * that all ranks called the same operation, combines in rank order and sends the result back; so
 * results are bit-identical on all ranks. Traffic is 2 (size - 1) messages per operation, through
 * rank 0: right for CPU training and control messages, not for large GPU jobs (NCCL does those).
 *
 * <p>Failures: a background reader per connection notices a closed connection at once. When a
 * process dies, rank 0 tells every other rank, whose pending or next operation throws a
 * {@link CommunicatorException} naming the dead rank; when rank 0 dies, every rank's connection
 * closes. A rank that stays silent is named when the timeout expires.
 */
public final class TcpCommunicator implements Communicator {
    private static final byte DATA = 1, RESULT = 2, ABORT = 3, BYE = 4;
    private static final Frame CLOSED = new Frame(BYE, 0, "", new byte[0]);
    private static final long GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);

    private record Frame(byte type, long seq, String call, byte[] data) {}

    private final TcpRendezvous.Connection conn;
    private final Duration timeout;
    private final int rank, size;
    private final Socket[] sockets; // by rank; on rank r > 0 only index 0 is set
    private final DataOutputStream[] outs;
    private final BlockingQueue<Frame>[] inbox;
    private volatile String failure;
    private volatile int failedRank = -1;
    private volatile boolean closed;
    private long ops;

    /**
     * @param conn the result of {@link TcpRendezvous#rendezvous}
     * @param timeout how long one operation may wait for the others
     */
    @SuppressWarnings("unchecked")
    public TcpCommunicator(TcpRendezvous.Connection conn, Duration timeout) {
        this.conn = conn;
        this.timeout = timeout;
        this.rank = conn.rank();
        this.size = conn.size();
        sockets = new Socket[size];
        outs = new DataOutputStream[size];
        inbox = new BlockingQueue[size];
        if (rank == 0) {
            for (int r = 1; r < size; r++) sockets[r] = conn.peers()[r];
        } else {
            sockets[0] = conn.root();
        }
        for (int r = 0; r < size; r++) {
            if (sockets[r] == null) continue;
            try {
                outs[r] = new DataOutputStream(new BufferedOutputStream(sockets[r].getOutputStream(), 1 << 16));
                DataInputStream in = new DataInputStream(new BufferedInputStream(sockets[r].getInputStream(), 1 << 16));
                inbox[r] = new LinkedBlockingQueue<>();
                int peer = r;
                Thread t = new Thread(() -> read(peer, in), "lmu-tcp-comm-" + rank + "<-" + r);
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                throw new CommunicatorException("TcpCommunicator: connection to rank " + r + " unusable: " + e, r, e);
            }
        }
    }

    /** Rendezvous and connect in one call (see {@link TcpRendezvous#rendezvous}). */
    public static TcpCommunicator connect(String host, int port, int rank, int size, Duration timeout) {
        return new TcpCommunicator(TcpRendezvous.rendezvous(host, port, rank, size, null, timeout), timeout);
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

    @Override
    public void allReduce(float[] buf, int off, int len, Op op) {
        Communicator.checkRange("allReduce", buf.length, off, len);
        byte[] r = exchange("allReduce(float32, " + len + ", " + op + ")", floats(buf, off, len), parts -> {
            float[][] p = new float[parts.length][];
            for (int k = 0; k < parts.length; k++) p[k] = toFloats(parts[k], len);
            float[] s = Collectives.reduce(p, len, op);
            return floats(s, 0, len);
        });
        ByteBuffer.wrap(r).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(buf, off, len);
    }

    @Override
    public void allReduce(double[] buf, int off, int len, Op op) {
        Communicator.checkRange("allReduce", buf.length, off, len);
        byte[] r = exchange("allReduce(float64, " + len + ", " + op + ")", doubles(buf, off, len), parts -> {
            double[][] p = new double[parts.length][];
            for (int k = 0; k < parts.length; k++) p[k] = toDoubles(parts[k], len);
            double[] s = Collectives.reduce(p, len, op);
            return doubles(s, 0, len);
        });
        ByteBuffer.wrap(r).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(buf, off, len);
    }

    @Override
    public void broadcast(float[] buf, int off, int len, int root) {
        Communicator.checkRange("broadcast", buf.length, off, len);
        Communicator.checkRoot("broadcast", root, size);
        byte[] r = exchange("broadcast(float32, " + len + ", root " + root + ")", rank == root ? floats(buf, off, len) : new byte[0],
                parts -> parts[root]);
        if (rank != root) ByteBuffer.wrap(r).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(buf, off, len);
    }

    @Override
    public void broadcast(double[] buf, int off, int len, int root) {
        Communicator.checkRange("broadcast", buf.length, off, len);
        Communicator.checkRoot("broadcast", root, size);
        byte[] r = exchange("broadcast(float64, " + len + ", root " + root + ")", rank == root ? doubles(buf, off, len) : new byte[0],
                parts -> parts[root]);
        if (rank != root) ByteBuffer.wrap(r).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(buf, off, len);
    }

    @Override
    public void allGather(float[] send, float[] recv) {
        if ((long) send.length * size != recv.length) {
            throw new IllegalArgumentException("allGather: recv must hold size * send.length = " + size + " * " + send.length
                    + " values, got " + recv.length);
        }
        byte[] r = exchange("allGather(float32, " + send.length + ")", floats(send, 0, send.length), TcpCommunicator::concat);
        ByteBuffer.wrap(r).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(recv);
    }

    @Override
    public void allGather(double[] send, double[] recv) {
        if ((long) send.length * size != recv.length) {
            throw new IllegalArgumentException("allGather: recv must hold size * send.length = " + size + " * " + send.length
                    + " values, got " + recv.length);
        }
        byte[] r = exchange("allGather(float64, " + send.length + ")", doubles(send, 0, send.length), TcpCommunicator::concat);
        ByteBuffer.wrap(r).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(recv);
    }

    @Override
    public void barrier() {
        exchange("barrier", new byte[0], parts -> new byte[0]);
    }

    @Override
    public void abort(Throwable cause) {
        fail("rank " + rank + " failed: " + cause, rank);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (int r = 0; r < size; r++) {
            if (outs[r] == null) continue;
            try {
                send(r, BYE, 0, "", new byte[0]);
            } catch (IOException ignored) {
                // the peer is gone already
            }
            TcpRendezvous.closeQuietly(sockets[r]);
        }
    }

    // ---- the star protocol

    private byte[] exchange(String what, byte[] mine, Function<byte[][], byte[]> combine) {
        if (closed) throw new IllegalStateException("TcpCommunicator: rank " + rank + " is closed");
        throwIfFailed();
        long seq = ++ops;
        String call = "op #" + seq + " " + what;
        try {
            if (rank != 0) {
                send(0, DATA, seq, call, mine);
                Frame f = await(0, System.nanoTime() + timeout.toNanos() + GRACE_NANOS, call);
                if (f.type != RESULT || f.seq != seq) {
                    fail("protocol error in " + call + ": rank 0 sent message type " + f.type + " for op #" + f.seq, 0);
                    throwIfFailed();
                }
                return f.data;
            }
            byte[][] parts = new byte[size][];
            parts[0] = mine;
            long deadline = System.nanoTime() + timeout.toNanos();
            for (int r = 1; r < size; r++) {
                Frame f = await(r, deadline, call);
                if (f.type != DATA || f.seq != seq || !f.call.equals(call)) {
                    fail("ranks called different operations: rank 0 " + call + "; rank " + r + " " + f.call, r);
                    throwIfFailed();
                }
                parts[r] = f.data;
            }
            byte[] result = combine.apply(parts);
            for (int r = 1; r < size; r++) send(r, RESULT, seq, "", result);
            return result;
        } catch (IOException e) {
            int peer = rank == 0 ? -1 : 0;
            fail("rank " + rank + " could not send in " + call + ": " + e, peer);
            throwIfFailed();
            throw new IllegalStateException(e); // not reached
        }
    }

    private Frame await(int peer, long deadline, String call) {
        while (true) {
            throwIfFailed();
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                if (rank == 0) {
                    fail("rank " + peer + " did not reach " + call + " within " + InProcessCommunicator.human(timeout)
                            + " (hung, much slower, or took another branch)", peer);
                } else {
                    fail("no answer from rank 0 in " + call + " within " + InProcessCommunicator.human(timeout), 0);
                }
                throwIfFailed();
            }
            try {
                Frame f = inbox[peer].poll(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)), TimeUnit.NANOSECONDS);
                if (f == null) continue;
                if (f == CLOSED) {
                    inbox[peer].add(CLOSED); // stays closed for later calls
                    fail("rank " + peer + " closed its communicator before " + call, peer);
                    throwIfFailed();
                }
                return f;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("rank " + rank + " was interrupted in " + call, rank);
                throwIfFailed();
            }
        }
    }

    private void read(int peer, DataInputStream in) {
        try {
            while (true) {
                byte type = in.readByte();
                if (type == ABORT) {
                    String why = in.readUTF();
                    int who = in.readInt();
                    fail(why, who);
                    return;
                }
                if (type == BYE) {
                    inbox[peer].add(CLOSED);
                    return;
                }
                long seq = in.readLong();
                String call = in.readUTF();
                int n = in.readInt();
                byte[] data = new byte[n];
                in.readFully(data);
                inbox[peer].add(new Frame(type, seq, call, data));
            }
        } catch (EOFException e) {
            if (!closed) fail(lostMessage(peer), peer);
        } catch (IOException e) {
            if (!closed) fail(lostMessage(peer) + " (" + e.getMessage() + ")", peer);
        }
    }

    private String lostMessage(int peer) {
        return peer == 0 ? "lost the connection to rank 0 at " + conn.address() + ": its process died or was killed"
                : "lost the connection to rank " + peer + ": its process died or was killed";
    }

    /** Records the first failure and tells the peers (rank 0 relays to every other rank). */
    private void fail(String message, int who) {
        synchronized (this) {
            if (failure != null) return;
            failure = message;
            failedRank = who;
        }
        for (int r = 0; r < size; r++) {
            if (outs[r] == null || r == who) continue;
            try {
                synchronized (outs[r]) {
                    outs[r].writeByte(ABORT);
                    outs[r].writeUTF(message.length() > 8000 ? message.substring(0, 8000) : message);
                    outs[r].writeInt(who);
                    outs[r].flush();
                }
            } catch (IOException ignored) {
                // that peer is gone too; its own connection loss is reported by its reader
            }
        }
    }

    private void throwIfFailed() {
        String f = failure;
        if (f != null) throw new CommunicatorException("TcpCommunicator (rank " + rank + " of " + size + "): " + f, failedRank);
    }

    private void send(int peer, byte type, long seq, String call, byte[] data) throws IOException {
        DataOutputStream o = outs[peer];
        synchronized (o) {
            o.writeByte(type);
            if (type != BYE) {
                o.writeLong(seq);
                o.writeUTF(call);
                o.writeInt(data.length);
                o.write(data);
            }
            o.flush();
        }
    }

    // ---- encoding

    private static byte[] floats(float[] a, int off, int len) {
        ByteBuffer b = ByteBuffer.allocate(len * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(a, off, len);
        return b.array();
    }

    private static byte[] doubles(double[] a, int off, int len) {
        ByteBuffer b = ByteBuffer.allocate(len * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asDoubleBuffer().put(a, off, len);
        return b.array();
    }

    private static float[] toFloats(byte[] b, int len) {
        if (b.length != len * 4) throw new IllegalStateException("TcpCommunicator: expected " + len + " float32 values, got " + b.length + " bytes");
        float[] a = new float[len];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(a);
        return a;
    }

    private static double[] toDoubles(byte[] b, int len) {
        if (b.length != len * 8) throw new IllegalStateException("TcpCommunicator: expected " + len + " float64 values, got " + b.length + " bytes");
        double[] a = new double[len];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(a);
        return a;
    }

    private static byte[] concat(byte[][] parts) {
        int n = 0;
        for (byte[] p : parts) n += p.length;
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
