package lmu.train;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import lmu.autograd.Backward;
import lmu.backend.Backends;
import lmu.backend.UnaryOp;
import lmu.distributed.AsyncCommunicator;
import lmu.distributed.Communicator;
import lmu.speech.metrics.ErrorRate;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.DeviceStorage;
import lmu.tensor.Tensor;

/**
 * Makes a {@link Trainer} one replica of a data-parallel group: every rank holds the whole model,
 * trains on its slice of each global batch, and every rank applies the same update.
 *
 * <ul>
 *   <li>Start: rank 0's weights, optimizer moments and position (after a resume: only rank 0 needs
 *       the checkpoint) are broadcast, so all replicas start identical.</li>
 *   <li>Each micro-batch's backward pass runs on the sum of its per-utterance losses. Gradients
 *       are summed over ranks in buckets of about {@code bucketBytes} (parameters in reverse order,
 *       the order in which backward produces them) while the backward pass of the step's last
 *       micro-batch goes on: the autograd engine reports each parameter whose gradient is final
 *       ({@link Backward.LeafListener}), and once every gradient of the next bucket is final that
 *       bucket's all-reduce starts on this rank's communicator thread ({@link AsyncCommunicator}).
 *       Buckets start strictly in order (the same sequence on every rank, whatever order their
 *       gradients finished in); what is left starts after backward; the step waits for all of
 *       them, then divides by the number of utterances of the global batch. That gives the
 *       gradient of the mean loss over the global batch however the utterances were spread over
 *       ranks (uneven slices, empty slices). With gradient accumulation the earlier micro-batches
 *       only accumulate locally.</li>
 *   <li>Decisions that change control flow are agreed: whether a batch follows, skipping a step
 *       with non-finite gradients, a stop request (signal), early stop.</li>
 *   <li>Validation: every rank evaluates its share and the error counts and losses are summed, so
 *       every utterance counts once.</li>
 * </ul>
 *
 * <p>All collectives of a replica, gradient buckets and control decisions alike, go through one
 * {@link AsyncCommunicator}, so they reach the group in program order. On the CPU a bucket's
 * gradients are packed into one array and reduced there. On an accelerator they never leave the
 * device: a bucket is the list of its gradient tensors, reduced in place by {@link
 * Communicator#allReduce(java.util.List, Communicator.Op)} (NCCL on the GPU's memory, after the
 * kernels that produced them on the backend's stream and on a stream of its own, so the rest of the
 * backward pass overlaps it; on a simulated device through its host array), then scaled
 * by the device's backend. Only the start (rank 0's weights and optimizer state) goes through the host.
 */
public final class DataParallel {
    /** Default bucket size: 25 MiB of float32 gradients. */
    public static final long DEFAULT_BUCKET_BYTES = 25L << 20;

    /** Parameters whose gradients are all-reduced together, packed into {@code flat}. */
    private record Bucket(List<Tensor> params, float[] flat) {}

    private final AsyncCommunicator comm;
    /** Whether the parameters live on an accelerator: buckets are then reduced there, not packed on the host. */
    private final boolean onDevice;
    private final List<Bucket> buckets = new ArrayList<>();
    private final Map<Tensor, Integer> index = new IdentityHashMap<>(); // parameter -> position in paramBucket
    private final int[] paramBucket;
    private final boolean[] ready;
    private final int[] readyInBucket;
    private final List<AsyncCommunicator.Pending> inFlight = new ArrayList<>();
    private int nextBucket;
    private double samples, lossSum;
    private int lossCount;
    private double lastStepLoss = Double.NaN;
    private long lastStepSamples;

    /**
     * @param comm this rank's communicator (wrapped in an {@link AsyncCommunicator} unless it is one)
     * @param params the model's parameters in model order (every rank the same list of shapes)
     * @param bucketBytes gradient bytes per all-reduce, > 0
     * @throws IllegalArgumentException when bucketBytes is not positive or a parameter is listed twice
     */
    public DataParallel(Communicator comm, List<Tensor> params, long bucketBytes) {
        if (bucketBytes <= 0) throw new IllegalArgumentException("DataParallel: bucketBytes must be > 0, got " + bucketBytes);
        this.comm = comm instanceof AsyncCommunicator a ? a : new AsyncCommunicator(comm, "dp");
        this.onDevice = !params.isEmpty() && params.get(0).device().kind() != Device.Kind.CPU;
        for (Tensor p : params) {
            if (!p.device().equals(params.get(0).device())) {
                throw new IllegalArgumentException("DataParallel: every parameter must be on one device, got "
                        + params.get(0).device() + " and " + p.device());
            }
        }
        paramBucket = new int[params.size()];
        ready = new boolean[params.size()];
        List<Tensor> current = new ArrayList<>();
        long bytes = 0;
        for (int i = params.size() - 1; i >= 0; i--) {
            Tensor p = params.get(i);
            if (index.put(p, i) != null) {
                throw new IllegalArgumentException("DataParallel: parameter " + i + " " + java.util.Arrays.toString(p.shape())
                        + " is listed twice");
            }
            long b = 4L * p.numel();
            if (!current.isEmpty() && bytes + b > bucketBytes) {
                buckets.add(bucket(current));
                current = new ArrayList<>();
                bytes = 0;
            }
            current.add(p);
            paramBucket[i] = buckets.size();
            bytes += b;
        }
        if (!current.isEmpty()) buckets.add(bucket(current));
        readyInBucket = new int[buckets.size()];
    }

    private Bucket bucket(List<Tensor> params) {
        long n = 0;
        for (Tensor p : params) n += p.numel();
        if (n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("DataParallel: a bucket of " + n + " values is too large");
        return new Bucket(List.copyOf(params), onDevice ? null : new float[(int) n]); // on a device: no host buffer
    }

    public Communicator communicator() {
        return comm;
    }

    public int rank() {
        return comm.rank();
    }

    public int size() {
        return comm.size();
    }

    /** Whether this rank writes checkpoints, logs and metrics. */
    public boolean isRoot() {
        return comm.rank() == 0;
    }

    /** Number of gradient buckets (all-reduces per step). */
    public int buckets() {
        return buckets.size();
    }

    /**
     * Copies rank 0's weights, optimizer state and position into every replica.
     *
     * @throws IllegalStateException when the replicas' models differ in size
     */
    void synchronizeStart(Trainer trainer, List<Tensor> params, Map<String, float[]> optimizerState) {
        long n = 0;
        for (Tensor p : params) n += p.numel();
        double[] check = {n, -n};
        comm.allReduce(check, Communicator.Op.MAX);
        if (check[0] != n || -check[1] != n) {
            throw new IllegalStateException("DataParallel: replicas have different parameter counts (this rank " + n + ", range "
                    + (long) -check[1] + ".." + (long) check[0] + "): every rank must build the same model config");
        }
        for (Tensor p : params) {
            float[] v = hostValues(p);
            comm.broadcast(v, 0, p.numel(), 0);
            if (p.storage() instanceof DeviceStorage d) d.fromHost(v);
        }
        for (float[] s : optimizerState.values()) comm.broadcast(s, 0, s.length, 0);
        double[] pos = trainer.position();
        comm.broadcast(pos, 0, pos.length, 0);
        trainer.position(pos);
    }

    /** True on every rank when every rank has another batch. */
    boolean allHaveNext(boolean mine) {
        return comm.allTrue(mine);
    }

    /** True on every rank when {@code mine} is true on any rank ("found inf", a stop). */
    public boolean anyTrue(boolean mine) {
        return comm.anyTrue(mine);
    }

    /** Records a micro-batch of {@code size} utterances whose mean loss was {@code meanLoss}. */
    void addMicroBatch(int size, double meanLoss) {
        samples += size;
        if (size > 0 && Double.isFinite(meanLoss)) {
            lossSum += meanLoss * size;
            lossCount += size;
        }
    }

    /**
     * Runs backward from {@code loss} (a one-element tensor). When {@code reduce} (the step's last
     * micro-batch), each bucket's all-reduce starts as soon as its gradients are final, while
     * backward continues; {@link #reduceGradients} then waits for them. Otherwise gradients only
     * accumulate on this rank.
     */
    void backward(Tensor loss, boolean reduce) {
        if (!reduce) {
            loss.backward();
            return;
        }
        loss.backward(this::gradientReady);
    }

    /** A parameter's gradient is final for this step: count it, start every bucket that is complete, in order. */
    private void gradientReady(Tensor leaf) {
        Integer i = index.get(leaf);
        if (i == null || ready[i]) return;
        ready[i] = true;
        readyInBucket[paramBucket[i]]++;
        while (nextBucket < buckets.size() && readyInBucket[nextBucket] == buckets.get(nextBucket).params().size()) {
            start(nextBucket++);
        }
    }

    /**
     * Starts bucket {@code b}'s all-reduce on the communicator thread (zeros where a parameter has
     * no gradient): on the CPU its gradients are packed into the bucket's array there; on an
     * accelerator the gradient tensors themselves are reduced in place on the device.
     */
    private void start(int b) {
        Bucket bucket = buckets.get(b);
        List<Tensor> params = bucket.params();
        if (onDevice) {
            List<Tensor> grads = new ArrayList<>(params.size());
            for (Tensor p : params) {
                if (p.grad() == null) { // no gradient on this rank (an empty slice): it contributes zeros
                    Tensor z = Backends.of(p.device()).empty(DType.F32, p.shape());
                    Backends.of(p.device()).fill(z, 0);
                    p.setGrad(z);
                }
                grads.add(p.grad());
            }
            inFlight.add(comm.submit(c -> c.allReduce(grads, Communicator.Op.SUM)));
            return;
        }
        inFlight.add(comm.submit(c -> {
            float[] flat = bucket.flat();
            int at = 0;
            for (int k = 0; k < params.size(); k++) {
                Tensor p = params.get(k);
                if (p.grad() != null) System.arraycopy(p.grad().f32(), 0, flat, at, p.numel());
                else java.util.Arrays.fill(flat, at, at + p.numel(), 0f);
                at += p.numel();
            }
            c.allReduce(flat, 0, flat.length, Communicator.Op.SUM);
        }));
    }

    /** The values of a float32 tensor: its own array on the CPU, a host copy on an accelerator. */
    private static float[] hostValues(Tensor t) {
        return t.storage() instanceof DeviceStorage d ? d.toHost() : t.f32();
    }

    /**
     * Sums the gradients (of summed per-utterance losses) over ranks and divides them by the
     * global number of utterances of the step; every rank ends with the same gradients, also for
     * parameters that got none here (an empty slice). Buckets that {@link #backward} did not
     * start yet start now; then this waits for all of them.
     */
    void reduceGradients() {
        try {
            while (nextBucket < buckets.size()) start(nextBucket++);
            for (AsyncCommunicator.Pending p : inFlight) p.await();
        } finally {
            inFlight.clear();
            nextBucket = 0;
            java.util.Arrays.fill(ready, false);
            java.util.Arrays.fill(readyInBucket, 0);
        }
        double[] totals = {samples, lossSum, lossCount};
        comm.allReduce(totals, Communicator.Op.SUM);
        samples = lossSum = 0;
        lossCount = 0;
        lastStepSamples = (long) totals[0];
        lastStepLoss = totals[2] > 0 ? totals[1] / totals[2] : Double.NaN;
        float scale = (float) (1.0 / Math.max(1, totals[0]));
        if (onDevice) { // every gradient exists (start gave zeros to the missing ones); scaled where it lives
            for (Bucket bucket : buckets) {
                for (Tensor p : bucket.params()) Backends.of(p.device()).unary(UnaryOp.SCALE, p.grad(), p.grad(), scale);
            }
            return;
        }
        for (Bucket bucket : buckets) {
            float[] flat = bucket.flat();
            int at = 0;
            for (Tensor p : bucket.params()) {
                if (p.grad() == null) p.setGrad(Tensor.zeros(DType.F32, p.shape()));
                float[] g = p.grad().f32();
                for (int i = 0; i < g.length; i++) g[i] = flat[at + i] * scale;
                at += g.length;
            }
        }
    }

    /** Mean loss over the utterances of the last step on all ranks (NaN when none was finite). */
    double lastStepLoss() {
        return lastStepLoss;
    }

    /** Utterances in the last global step. */
    long lastStepSamples() {
        return lastStepSamples;
    }

    /** The stop reason when any rank was asked to stop (the same on every rank's decision), else null. */
    String agreeStop(String mine) {
        boolean any = comm.anyTrue(mine != null);
        return !any ? null : mine != null ? mine : "a stop request on another rank";
    }

    /**
     * Sums the shards' validation counts; the hypotheses stay this rank's (rank 0 prints examples).
     */
    Evaluator.Result combine(Evaluator.Result mine) {
        int counted = mine.utterances() - mine.infeasible();
        double[] v = {
            counted > 0 ? mine.loss() * counted : 0, counted, mine.utterances(), mine.infeasible(),
            mine.words().substitutions(), mine.words().deletions(), mine.words().insertions(), mine.words().referenceLength(),
            mine.chars().substitutions(), mine.chars().deletions(), mine.chars().insertions(), mine.chars().referenceLength()};
        comm.allReduce(v, Communicator.Op.SUM);
        return new Evaluator.Result(v[1] > 0 ? v[0] / v[1] : Double.NaN,
                new ErrorRate.Counts((long) v[4], (long) v[5], (long) v[6], (long) v[7]),
                new ErrorRate.Counts((long) v[8], (long) v[9], (long) v[10], (long) v[11]),
                (int) v[2], (int) v[3], mine.hypotheses());
    }
}
