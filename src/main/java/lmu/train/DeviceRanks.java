package lmu.train;

import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import lmu.distributed.Communicator;
import lmu.distributed.World;
import lmu.tensor.Device;

/**
 * The accelerators of one process in data-parallel training: one rank per device, each driven by a
 * thread of its own. The command line's implementation opens CUDA backends and NCCL communicators;
 * tests use simulated devices and in-process communicators.
 */
public interface DeviceRanks {
    /**
     * Opens {@code device} on the calling thread (the thread of the rank that trains there) and
     * registers its backend, so that ops on its tensors run there.
     *
     * @param device {@code cuda:i} for local rank i
     * @return closes (and unregisters) the device's backend
     */
    AutoCloseable open(Device device);

    /**
     * Connects the ranks of this process to the whole job: element i is local rank i, i.e. global
     * rank {@code world.rank(i)}, on device {@code cuda:i}. Several processes (nodes) meet through
     * a rendezvous at {@code world.masterAddr():world.masterPort()}.
     *
     * @param out where progress lines go (the rendezvous)
     * @throws lmu.distributed.CommunicatorException when the ranks do not meet within the timeout
     */
    List<? extends Communicator> connect(World world, Duration timeout, PrintStream out);
}
