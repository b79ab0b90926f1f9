package lmu.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import lmu.backend.cuda.CudaBackend;
import lmu.distributed.NcclCommunicator;
import lmu.distributed.TcpRendezvous;
import lmu.distributed.World;
import lmu.tensor.Device;
import lmu.train.DeviceRanks;

/**
 * Data-parallel ranks on the GPUs of this process: each rank's thread opens its own {@link
 * CudaBackend}; the ranks are NCCL communicators, one per GPU. With one process:
 * {@link NcclCommunicator#forLocalDevices}. With several (one per node, from SLURM or NNODES): the
 * process of node 0 creates the NCCL unique id, {@link TcpRendezvous} hands it to the others, and
 * each process joins with its GPUs ({@link NcclCommunicator#forDevices}). Loaded only with
 * {@code --device cuda}.
 */
final class CudaRanks implements DeviceRanks {
    private final PrintStream out;

    /** @param out where each rank prints its device line */
    CudaRanks(PrintStream out) {
        this.out = out;
    }

    @Override
    public AutoCloseable open(Device device) {
        CudaBackend gpu = CudaBackend.open(device); // registered with Backends for device's index, current on this thread
        out.println(TrainCommand.deviceLine(gpu));
        return gpu;
    }

    @Override
    public List<NcclCommunicator> connect(World world, Duration timeout, PrintStream log) {
        int gpus = world.ranksPerNode();
        if (world.nodes() == 1) return NcclCommunicator.forLocalDevices(gpus, timeout);
        log.println("rendezvous: node " + world.node() + " of " + world.nodes() + " with node 0 at " + world.masterAddr() + ":"
                + world.masterPort() + " for the NCCL unique id (timeout " + timeout.toSeconds() + " s)");
        byte[] shared = uniqueIdFromNodeZero(world, NcclCommunicator::createUniqueId, timeout);
        int[] devices = new int[gpus];
        for (int i = 0; i < gpus; i++) devices[i] = i;
        return NcclCommunicator.forDevices(devices, shared, world.rank(0), world.size(), timeout);
    }

    /**
     * The NCCL unique id of the job: node 0 creates it ({@code create}) and hands it to every other
     * node over the {@link TcpRendezvous} at {@code world.masterAddr():world.masterPort()}; the
     * connections close afterwards (NCCL carries everything from then on).
     *
     * @throws lmu.distributed.CommunicatorException when the nodes do not meet within the timeout
     * @throws IllegalStateException when node 0 handed out something else than an id
     */
    static byte[] uniqueIdFromNodeZero(World world, java.util.function.Supplier<byte[]> create, Duration timeout) {
        byte[] id = world.node() == 0 ? create.get() : null;
        TcpRendezvous.Connection c = TcpRendezvous.rendezvous(world.masterAddr(), world.masterPort(), world.node(), world.nodes(),
                id, timeout);
        byte[] shared = c.shared();
        close(c);
        if (shared.length != NcclCommunicator.UNIQUE_ID_BYTES) {
            throw new IllegalStateException("CudaRanks: node 0 handed out " + shared.length + " bytes, expected an NCCL unique id of "
                    + NcclCommunicator.UNIQUE_ID_BYTES);
        }
        return shared;
    }

    private static void close(TcpRendezvous.Connection c) {
        if (c.peers() != null) {
            for (Socket s : c.peers()) closeQuietly(s);
        }
        closeQuietly(c.root());
    }

    private static void closeQuietly(Socket s) {
        if (s == null) return;
        try {
            s.close();
        } catch (IOException ignored) {
            // the id arrived; a socket that fails to close changes nothing
        }
    }
}
