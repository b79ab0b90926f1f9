package lmu.nn.lmu;

import java.util.Arrays;
import java.util.Map;
import lmu.amp.Autocast;
import lmu.amp.Precision;
import lmu.nn.Module;
import lmu.nn.lmu.LegendreConvolution.Method;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.Tensor;
import lmu.util.Rng;

/**
 * One LMU layer (see {@link LmuConfig} for the equations) as a {@link Module}, run either step by
 * step ({@link Mode#RECURRENT}) or for all frames at once by causal convolution ({@link
 * Mode#PARALLEL}); {@link Mode#AUTO} takes PARALLEL whenever the config allows it ({@link
 * LmuConfig#parallelizable()}: no hidden_to_memory, no memory_to_memory, no hidden-to-hidden
 * kernel). Both modes compute the same function of the same parameters, so a trained layer can
 * switch modes.
 *
 * <p>Parameters, by name, shapes (fan_in, fan_out) as in {@link LmuParameters}: {@code ex} (C, K),
 * {@code eh} (hidden, K), {@code em} (K·d, K), {@code bu} (K), {@code wx} (C, hidden), {@code wh}
 * (hidden, hidden), {@code wm} (K·d, hidden), {@code bh} (hidden), each present when its option is
 * on. On the CPU the whole layer is one op ({@link LmuFunction}: float64 whatever the tensor dtype,
 * except the float32 parallel layer with the AUTO convolution method, which runs in float32). On
 * any other device it runs as a composition ({@link LmuComposition}): generic ops for the products
 * that do not depend on the previous frame, and the device's {@link lmu.backend.LmuKernels} for the
 * convolution (in the form {@link #setConvolutionMethod} asks for) and the recurrence; it is the same
 * function with the same gradients. Under a mixed-precision {@link Autocast}
 * policy only the input and output are stored in half precision.
 *
 * <pre>{@code
 * jshell> var lmu = new LmuLayer(LmuConfig.of(80, 384, 1, 192, 400), LmuLayer.Mode.AUTO, new Rng(1), DType.F32);
 * jshell> Tensor h = lmu.forward(x, lengths);   // x (B, T, 80) -> h (B, T, 384), zero after each length
 * }</pre>
 */
public final class LmuLayer extends Module implements lmu.nn.SequenceLayer {
    /** How the layer runs over time. */
    public enum Mode {
        /** PARALLEL when the config allows it, else RECURRENT. */
        AUTO,
        /** Step by step, any config. */
        RECURRENT,
        /** All frames at once by causal convolution; configs without feedback only. */
        PARALLEL
    }

    private final LmuConfig config;
    private final Mode mode;
    private final boolean parallel;
    private final LegendreImpulseResponse ir;
    private static final int PARAMETER_COUNT = LmuFunction.PARAMETER_ORDER.size();
    private volatile Method convolution = Method.AUTO;

    /**
     * @param config sizes and options
     * @param mode AUTO, RECURRENT or PARALLEL
     * @param rng initialisation draws (see {@link LmuParameters})
     * @param dtype F32 or F64 parameters
     * @throws IllegalArgumentException if mode is PARALLEL and the config has feedback, or dtype is
     *     not F32/F64, or the Euler discretisation is unstable for the order and θ
     */
    public LmuLayer(LmuConfig config, Mode mode, Rng rng, DType dtype) {
        if (config == null || mode == null) throw new IllegalArgumentException("LmuLayer: config and mode must be set");
        if (dtype != DType.F32 && dtype != DType.F64) {
            throw new IllegalArgumentException("LmuLayer: dtype must be F32 or F64, got " + dtype);
        }
        if (mode == Mode.PARALLEL && !config.parallelizable()) {
            throw new IllegalArgumentException("LmuLayer: mode PARALLEL needs a config without hiddenToMemory, "
                    + "memoryToMemory and hiddenToHidden, got " + config);
        }
        this.config = config;
        this.mode = mode;
        this.parallel = mode == Mode.PARALLEL || (mode == Mode.AUTO && config.parallelizable());
        this.ir = new LegendreImpulseResponse(new LegendreStateSpace(config.order(), config.theta(),
                config.discretizer()), config.maxLength());
        LmuParameters init = LmuParameters.initialise(config, rng);
        for (Map.Entry<String, double[]> e : init.arrays().entrySet()) {
            String name = e.getKey();
            Tensor t = Tensor.of(e.getValue().clone(), init.shape(name));
            param(name, t.to(dtype).detach());
        }
    }

    /**
     * Runs the layer.
     *
     * @param x input, shape (B, T, C); frames t ≥ lengths[b] are ignored
     * @param lengths valid frames per sequence, shape (B), each in [0, min(T, maxLength)]
     * @return h, shape (B, T, hidden), zero at padded frames
     * @throws IllegalArgumentException if x is not (B, T, C) with C = inputSize, dtypes differ, or
     *     lengths do not fit
     */
    @Override
    public Tensor forward(Tensor x, int[] lengths) {
        checkInput(x, lengths);
        if (!x.device().equals(Device.CPU)) return forwardComposed(x, lengths);
        Tensor[] inputs = new Tensor[1 + PARAMETER_COUNT];
        inputs[0] = Autocast.half(x); // half-precision activations in and out under a mixed-precision policy
        System.arraycopy(orderedParameters(), 0, inputs, 1, PARAMETER_COUNT);
        return Autocast.half(new LmuFunction(config, ir, parallel, convolution, lengths).apply(inputs));
    }

    private void checkInput(Tensor x, int[] lengths) {
        if (x == null || x.rank() != 3 || x.dim(2) != config.inputSize()) {
            throw new IllegalArgumentException("LmuLayer: x must have shape (B, T, " + config.inputSize() + "), got "
                    + (x == null ? "null" : Arrays.toString(x.shape())));
        }
        if (lengths == null || lengths.length != x.dim(0)) {
            throw new IllegalArgumentException("LmuLayer: lengths must have shape (B) = [" + x.dim(0) + "], got "
                    + (lengths == null ? "null" : "[" + lengths.length + "]"));
        }
        for (int b = 0; b < lengths.length; b++) {
            int max = Math.min(x.dim(1), config.maxLength());
            if (lengths[b] < 0 || lengths[b] > max) {
                throw new IllegalArgumentException("LmuLayer: lengths[" + b + "] must be in [0, " + max
                        + "] (min of T and maxLength), got " + lengths[b]);
            }
        }
    }

    /**
     * The layer as the device path runs it ({@link LmuComposition}), on any device; on the CPU it
     * goes through the CPU's {@link lmu.backend.LmuKernels} (for tests: it must equal {@link #forward}).
     */
    Tensor forwardComposed(Tensor x, int[] lengths) {
        checkInput(x, lengths);
        Tensor xh = Autocast.half(x);
        Tensor h;
        // only the input and output are rounded, as in the fused op: the inside runs at the storage precision
        try (Autocast inside = Autocast.enable(Precision.OFF)) {
            h = LmuComposition.forward(config, ir, parallel, convolution, xh, orderedParameters(), lengths);
        }
        return Autocast.half(h);
    }

    /** The parameters in {@link LmuFunction#PARAMETER_ORDER}, null where absent (read from the registry each call). */
    private Tensor[] orderedParameters() {
        Map<String, Tensor> named = namedParameters();
        Tensor[] p = new Tensor[PARAMETER_COUNT];
        for (int i = 0; i < PARAMETER_COUNT; i++) p[i] = named.get(LmuFunction.PARAMETER_ORDER.get(i));
        return p;
    }

    public LmuConfig config() {
        return config;
    }

    /** The mode asked for. */
    public Mode mode() {
        return mode;
    }

    /** The mode that runs: RECURRENT or PARALLEL. */
    public Mode effectiveMode() {
        return parallel ? Mode.PARALLEL : Mode.RECURRENT;
    }

    public LegendreStateSpace stateSpace() {
        return ir.system();
    }

    /**
     * Convolution method of the parallel mode (default AUTO: direct for short sequences, FFT for long,
     * each device with its own crossover). DIRECT or FFT force that form on every device: on the CPU
     * the layer then runs in float64 whatever its dtype; on a GPU the method reaches the device's
     * {@link lmu.backend.LmuKernels} (where a forced FFT takes at most
     * {@code CudaLegendreConvolution.FFT_MAX_FRAMES} frames).
     *
     * @param method AUTO, DIRECT or FFT
     * @throws IllegalArgumentException if method is null
     */
    public void setConvolutionMethod(Method method) {
        if (method == null) throw new IllegalArgumentException("LmuLayer: convolution method is null");
        this.convolution = method;
    }

    public Method convolutionMethod() {
        return convolution;
    }
}
