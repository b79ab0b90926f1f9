package lmu.distributed;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Brings the processes of a job together over TCP, with no shared filesystem: process 0 listens
 * on {@code MASTER_PORT}, every other process connects to {@code MASTER_ADDR:MASTER_PORT} (retrying
 * until process 0 is up) and says which process it is and how many it expects. When all have
 * arrived, process 0 sends each the same bytes (for GPUs: the NCCL unique id it created) and the
 * sockets stay open for {@link TcpCommunicator}. Every wait is bounded by the timeout and fails
 * with a message that names what was missing.
 */
public final class TcpRendezvous {
    static final int MAGIC = 0x4C4D5544; // "LMUD"
    static final int VERSION = 1;

    /**
     * The connections of one process after the rendezvous.
     *
     * @param rank this process, in [0, size)
     * @param size number of processes
     * @param peers on process 0: the socket of process r at index r (index 0 null); else null
     * @param root on the other processes: the socket to process 0; else null
     * @param shared the bytes process 0 handed out (possibly empty)
     * @param address where process 0 listens, host:port (for messages)
     */
    public record Connection(int rank, int size, Socket[] peers, Socket root, byte[] shared, String address) {}

    private TcpRendezvous() {}

    /**
     * Process 0 or another, as {@code rank} says.
     *
     * @param host address of process 0 (ignored by process 0 itself, which listens on all interfaces)
     * @param port port of process 0, in [1, 65535]
     * @param shared what process 0 hands to every process (ignored elsewhere), at most 1 MiB
     * @throws CommunicatorException when the others do not arrive within the timeout or disagree on the size
     */
    public static Connection rendezvous(String host, int port, int rank, int size, byte[] shared, Duration timeout) {
        if (size < 1 || rank < 0 || rank >= size) {
            throw new IllegalArgumentException("TcpRendezvous: expected 0 <= rank < size, got rank " + rank + ", size " + size);
        }
        if (port < 1 || port > 65535) throw new IllegalArgumentException("TcpRendezvous: port must be in [1, 65535], got " + port);
        return rank == 0 ? serve(port, size, shared == null ? new byte[0] : shared, timeout, host + ":" + port)
                : join(host, port, rank, size, timeout);
    }

    private static Connection serve(int port, int size, byte[] shared, Duration timeout, String address) {
        Socket[] peers = new Socket[size];
        long deadline = System.nanoTime() + timeout.toNanos();
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(port));
            int joined = 1;
            while (joined < size) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    List<Integer> missing = new ArrayList<>();
                    for (int r = 1; r < size; r++) if (peers[r] == null) missing.add(r);
                    closeAll(peers);
                    throw new CommunicatorException("TcpRendezvous: rank 0 waited " + InProcessCommunicator.human(timeout) + " on port "
                            + port + " and rank(s) " + missing + " never connected (did they start? same MASTER_ADDR/MASTER_PORT?)",
                            missing.get(0));
                }
                server.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, left / 1_000_000)));
                Socket s;
                try {
                    s = server.accept();
                } catch (SocketTimeoutException e) {
                    continue;
                }
                s.setSoTimeout((int) Math.max(1, Math.min(10_000, left / 1_000_000)));
                s.setTcpNoDelay(true);
                int peer;
                try {
                    DataInputStream in = new DataInputStream(s.getInputStream());
                    int magic = in.readInt();
                    if (magic != MAGIC) {
                        s.close(); // not one of ours (a port scanner, another service): keep waiting
                        continue;
                    }
                    int version = in.readInt(), r = in.readInt(), n = in.readInt();
                    String problem = version != VERSION ? "protocol version " + version + ", rank 0 speaks " + VERSION
                            : n != size ? "it expects " + n + " ranks, rank 0 expects " + size
                            : r <= 0 || r >= size ? "rank " + r + " is not in [1, " + size + ")"
                            : peers[r] != null ? "rank " + r + " connected twice" : null;
                    if (problem != null) {
                        reject(s, problem);
                        closeAll(peers);
                        throw new CommunicatorException("TcpRendezvous: a process from " + s.getRemoteSocketAddress()
                                + " was rejected: " + problem, r);
                    }
                    peer = r;
                } catch (IOException e) {
                    s.close(); // a half-open or dropped connection: the process will retry
                    continue;
                }
                peers[peer] = s;
                joined++;
            }
            for (int r = 1; r < size; r++) {
                DataOutputStream out = new DataOutputStream(peers[r].getOutputStream());
                out.writeByte(1);
                out.writeInt(shared.length);
                out.write(shared);
                out.flush();
                peers[r].setSoTimeout(0);
            }
            return new Connection(0, size, peers, null, shared, address);
        } catch (IOException e) {
            closeAll(peers);
            throw new CommunicatorException("TcpRendezvous: rank 0 cannot listen on port " + port + ": " + e.getMessage()
                    + " (port in use? set MASTER_PORT to a free port)", 0, e);
        }
    }

    private static Connection join(String host, int port, int rank, int size, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        IOException last = null;
        String address = host + ":" + port;
        while (System.nanoTime() < deadline) {
            Socket s = new Socket();
            try {
                long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
                s.connect(new InetSocketAddress(host, port), (int) Math.min(left, 5_000));
                s.setTcpNoDelay(true);
                s.setSoTimeout((int) Math.min(Integer.MAX_VALUE, Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
                DataOutputStream out = new DataOutputStream(s.getOutputStream());
                out.writeInt(MAGIC);
                out.writeInt(VERSION);
                out.writeInt(rank);
                out.writeInt(size);
                out.flush();
                DataInputStream in = new DataInputStream(s.getInputStream());
                int status = in.readByte();
                if (status != 1) {
                    String why = in.readUTF();
                    s.close();
                    throw new CommunicatorException("TcpRendezvous: rank 0 at " + address + " rejected rank " + rank + ": " + why, rank);
                }
                int n = in.readInt();
                if (n < 0 || n > (1 << 20)) throw new IOException("shared payload of " + n + " bytes");
                byte[] shared = in.readNBytes(n);
                if (shared.length != n) throw new IOException("connection closed during the rendezvous");
                s.setSoTimeout(0);
                return new Connection(rank, size, null, s, shared, address);
            } catch (SocketTimeoutException e) {
                closeQuietly(s);
                throw new CommunicatorException("TcpRendezvous: rank " + rank + " connected to rank 0 at " + address
                        + " but the other ranks did not all arrive within " + InProcessCommunicator.human(timeout), 0, e);
            } catch (IOException e) {
                last = e;
                closeQuietly(s);
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new CommunicatorException("TcpRendezvous: interrupted while connecting to " + address, 0, ie);
                }
            }
        }
        throw new CommunicatorException("TcpRendezvous: rank " + rank + " could not reach rank 0 at " + address + " within "
                + InProcessCommunicator.human(timeout) + (last == null ? "" : " (last error: " + last + ")")
                + "; is rank 0 running, and are MASTER_ADDR/MASTER_PORT right?", 0, last);
    }

    private static void reject(Socket s, String why) {
        try {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeByte(0);
            out.writeUTF(why);
            out.flush();
        } catch (IOException ignored) {
            // the peer learns of the rejection from the closed connection
        }
        closeQuietly(s);
    }

    static void closeAll(Socket[] peers) {
        for (Socket s : peers) if (s != null) closeQuietly(s);
    }

    static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing is best effort
        }
    }
}
