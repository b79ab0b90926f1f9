package lmu.distributed;

/**
 * Device storage whose elements live in a host array (a simulated device): communicators that
 * work on host arrays ({@link InProcessCommunicator}, {@link TcpCommunicator}) reduce its tensors in
 * place through that array, with no copy, as NCCL reduces a GPU tensor in the GPU's memory.
 */
public interface HostAddressable {
    /** The float32 elements themselves (not a copy), length the storage's size. */
    float[] hostArray();
}
