package lmu.distributed;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Who takes part in a data-parallel job: {@code nodes} processes (one per node, started by
 * {@code srun} or by hand), each driving {@code ranksPerNode} ranks (one per GPU, or CPU threads),
 * so {@code size = nodes * ranksPerNode} and rank = node * ranksPerNode + local rank.
 *
 * <p>Resolved from the environment, first match wins:
 * <ul>
 *   <li>SLURM: {@code SLURM_NTASKS} processes, this one {@code SLURM_PROCID}; rank 0's address is
 *       {@code MASTER_ADDR} if set, else the first host of {@code SLURM_JOB_NODELIST} (or
 *       {@code SLURM_NODELIST}); its port {@code MASTER_PORT} if set, else 20000 + job id mod 20000
 *       (so jobs sharing a node do not collide).</li>
 *   <li>By hand: {@code NNODES} processes, this one {@code NODE_RANK}, with {@code MASTER_ADDR} and
 *       {@code MASTER_PORT} (default 29500).</li>
 *   <li>Otherwise one process.</li>
 * </ul>
 *
 * @param nodes processes in the job, ≥ 1
 * @param node this process, in [0, nodes)
 * @param ranksPerNode ranks driven by each process (GPUs per node, or CPU ranks), ≥ 1
 * @param gpusPerNode GPUs each process uses (0 on CPU)
 * @param masterAddr host of process 0 (for the rendezvous)
 * @param masterPort port of process 0
 * @param jobId the SLURM job id, or "" outside SLURM
 * @param source where the values came from (printed by --dry-run)
 */
public record World(int nodes, int node, int ranksPerNode, int gpusPerNode, String masterAddr, int masterPort, String jobId,
        String source) {
    /** Default port outside SLURM. */
    public static final int DEFAULT_PORT = 29500;

    public World {
        if (nodes < 1 || node < 0 || node >= nodes || ranksPerNode < 1 || gpusPerNode < 0) {
            throw new IllegalArgumentException("World: expected nodes >= 1, 0 <= node < nodes, ranksPerNode >= 1, gpusPerNode >= 0,"
                    + " got nodes " + nodes + ", node " + node + ", ranksPerNode " + ranksPerNode + ", gpusPerNode " + gpusPerNode
                    + " (from " + source + ")");
        }
    }

    /** One process with {@code ranks} in-process ranks. */
    public static World local(int ranks) {
        return new World(1, 0, ranks, 0, "127.0.0.1", DEFAULT_PORT, "", "single process");
    }

    /**
     * Reads the process layout from environment variables (see the class comment).
     *
     * @param env the environment, e.g. {@code System.getenv()}
     * @param ranksPerNode ranks per process (GPUs per node, or CPU ranks)
     * @param gpusPerNode GPUs per process, 0 on CPU
     * @throws IllegalArgumentException naming the variable when one is malformed or inconsistent
     */
    public static World fromEnvironment(Map<String, String> env, int ranksPerNode, int gpusPerNode) {
        String addr = env.get("MASTER_ADDR");
        if (env.containsKey("SLURM_NTASKS") || env.containsKey("SLURM_PROCID")) {
            int n = intVar(env, "SLURM_NTASKS", 1);
            int id = intVar(env, "SLURM_PROCID", 0);
            String job = env.getOrDefault("SLURM_JOB_ID", env.getOrDefault("SLURM_JOBID", ""));
            String list = env.getOrDefault("SLURM_JOB_NODELIST", env.getOrDefault("SLURM_NODELIST", ""));
            if (addr == null || addr.isBlank()) {
                if (n > 1 && list.isBlank()) {
                    throw new IllegalArgumentException("World: SLURM_NTASKS is " + n + " but neither MASTER_ADDR nor SLURM_JOB_NODELIST"
                            + " is set; cannot tell where rank 0 listens");
                }
                addr = list.isBlank() ? "127.0.0.1" : firstHost(list);
            }
            int port = env.containsKey("MASTER_PORT") ? port(env) : job.matches("\\d+") ? 20000 + (int) (Long.parseLong(job) % 20000)
                    : DEFAULT_PORT;
            return new World(n, id, ranksPerNode, gpusPerNode, addr, port, job,
                    "SLURM (SLURM_NTASKS=" + n + ", SLURM_PROCID=" + id + (list.isBlank() ? "" : ", nodes " + list) + ")");
        }
        if (env.containsKey("NNODES") || env.containsKey("NODE_RANK")) {
            int n = intVar(env, "NNODES", 1);
            int id = intVar(env, "NODE_RANK", 0);
            if (n > 1 && (addr == null || addr.isBlank())) {
                throw new IllegalArgumentException("World: NNODES is " + n + " but MASTER_ADDR is not set (the host of NODE_RANK 0)");
            }
            return new World(n, id, ranksPerNode, gpusPerNode, addr == null ? "127.0.0.1" : addr,
                    env.containsKey("MASTER_PORT") ? port(env) : DEFAULT_PORT, "", "environment (NNODES=" + n + ", NODE_RANK=" + id + ")");
        }
        return new World(1, 0, ranksPerNode, gpusPerNode, "127.0.0.1", DEFAULT_PORT, "", "single process");
    }

    /** Number of ranks. */
    public int size() {
        return nodes * ranksPerNode;
    }

    /** The global rank of local rank {@code local} of this process. */
    public int rank(int local) {
        if (local < 0 || local >= ranksPerNode) {
            throw new IllegalArgumentException("World: local rank must be in [0, " + ranksPerNode + "), got " + local);
        }
        return node * ranksPerNode + local;
    }

    /** Whether this process hosts rank 0 (writes checkpoints, logs and metrics). */
    public boolean isLeader() {
        return node == 0;
    }

    /**
     * Utterances of a global batch of {@code globalBatch} that rank {@code rank} gets: the batch is
     * cut into {@link #size()} consecutive slices whose sizes differ by at most one.
     */
    public static int sliceStart(int globalBatch, int rank, int size) {
        return (int) ((long) globalBatch * rank / size);
    }

    /**
     * Checks that a global batch can be shared by the ranks.
     *
     * @throws IllegalArgumentException naming {@code train.batch_size} when it is smaller than the number of ranks
     */
    public void checkBatch(int globalBatch) {
        if (globalBatch < size()) {
            throw new IllegalArgumentException("config key train.batch_size: the global batch " + globalBatch + " is smaller than the "
                    + size() + " ranks (" + describeShape() + "); every rank needs at least one utterance per step:"
                    + " raise train.batch_size to at least " + size() + " or use fewer ranks");
        }
    }

    /** "2 nodes x 4 GPUs" or "1 process x 3 CPU ranks". */
    public String describeShape() {
        return nodes + (nodes == 1 ? " node" : " nodes") + " x " + ranksPerNode + (gpusPerNode > 0 ? " GPU" : " CPU rank")
                + (ranksPerNode == 1 ? "" : "s");
    }

    /** What --dry-run prints: layout, source, rendezvous, batch per rank. */
    public String describe(int globalBatch, int gradAccum) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "world: %d rank(s) = %s; this process is node %d of %d (ranks %d..%d)%n", size(),
                describeShape(), node, nodes, rank(0), rank(ranksPerNode - 1)));
        sb.append("  from: ").append(source).append('\n');
        if (nodes > 1) sb.append("  rendezvous: rank 0 at ").append(masterAddr).append(':').append(masterPort).append('\n');
        sb.append("  device: ").append(gpusPerNode > 0 ? gpusPerNode + " GPU(s) per node, one rank per GPU" : "cpu").append('\n');
        sb.append("  ").append(batchLine(globalBatch, size(), gradAccum)).append('\n');
        return sb.toString();
    }

    /**
     * The batch line printed at start: global batch, per-rank batch, what happens when the global
     * batch does not divide by the number of ranks.
     */
    public static String batchLine(int globalBatch, int size, int gradAccum) {
        int lo = globalBatch / size, hi = (globalBatch + size - 1) / size;
        String per = lo == hi ? Integer.toString(lo) : lo + " or " + hi;
        String s = String.format(Locale.ROOT, "batch: %d global = %s per rank x %d rank(s)", globalBatch, per, size);
        if (lo != hi) {
            int big = globalBatch - lo * size;
            s += String.format(Locale.ROOT, " (%d does not divide by %d: %d rank(s) take %d, %d take %d; gradients are averaged over"
                    + " the %d utterances, so the step equals a one-rank step on the same batch)", globalBatch, size, big, hi, size - big,
                    lo, globalBatch);
        }
        if (gradAccum > 1) s += " x " + gradAccum + " accumulated";
        return s;
    }

    /**
     * GPUs this process may use: {@code SLURM_GPUS_ON_NODE}, else the entries of
     * {@code CUDA_VISIBLE_DEVICES}, else {@code fallback} (the driver's device count).
     *
     * @throws IllegalArgumentException naming the variable when it is malformed
     */
    public static int visibleGpus(Map<String, String> env, int fallback) {
        String slurm = env.get("SLURM_GPUS_ON_NODE");
        if (slurm != null && !slurm.isBlank()) return intVar(env, "SLURM_GPUS_ON_NODE", fallback);
        String cvd = env.get("CUDA_VISIBLE_DEVICES");
        if (cvd != null) return cvd.isBlank() ? 0 : cvd.split(",").length;
        return fallback;
    }

    /** Timeout of one collective: {@code LMU_DIST_TIMEOUT} seconds, default {@code fallback}. */
    public static Duration timeout(Map<String, String> env, Duration fallback) {
        String v = env.get("LMU_DIST_TIMEOUT");
        if (v == null || v.isBlank()) return fallback;
        try {
            double s = Double.parseDouble(v.trim());
            if (!(s > 0)) throw new NumberFormatException();
            return Duration.ofMillis((long) (s * 1000));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("LMU_DIST_TIMEOUT: expected seconds > 0, got '" + v + "'");
        }
    }

    /**
     * The first host of a SLURM node list: {@code "gpu[03-05,9],cpu1"} gives {@code "gpu03"}.
     *
     * @throws IllegalArgumentException when the list is empty or malformed
     */
    public static String firstHost(String nodeList) {
        List<String> hosts = expandFirst(nodeList.trim());
        if (hosts.isEmpty()) throw new IllegalArgumentException("World: cannot read a host from node list '" + nodeList + "'");
        return hosts.get(0);
    }

    private static List<String> expandFirst(String list) {
        List<String> out = new ArrayList<>();
        int depth = 0, end = list.length();
        for (int i = 0; i < list.length(); i++) {
            char c = list.charAt(i);
            if (c == '[') depth++;
            else if (c == ']') depth--;
            else if (c == ',' && depth == 0) {
                end = i;
                break;
            }
        }
        String first = list.substring(0, end);
        int open = first.indexOf('[');
        if (open < 0) {
            if (!first.isEmpty()) out.add(first);
            return out;
        }
        int close = first.indexOf(']', open);
        if (close < 0) throw new IllegalArgumentException("World: unbalanced '[' in node list '" + list + "'");
        String prefix = first.substring(0, open), suffix = first.substring(close + 1);
        String range = first.substring(open + 1, close).split(",")[0];
        String lo = range.split("-")[0];
        out.add(prefix + lo + suffix);
        return out;
    }

    private static int intVar(Map<String, String> env, String name, int fallback) {
        String v = env.get(name);
        if (v == null || v.isBlank()) return fallback;
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("World: " + name + " must be an integer, got '" + v + "'");
        }
    }

    private static int port(Map<String, String> env) {
        int p = intVar(env, "MASTER_PORT", DEFAULT_PORT);
        if (p < 1 || p > 65535) throw new IllegalArgumentException("World: MASTER_PORT must be in [1, 65535], got " + p);
        return p;
    }
}
