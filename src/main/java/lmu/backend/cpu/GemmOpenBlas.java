package lmu.backend.cpu;

import static org.bytedeco.openblas.global.openblas_nolapack.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.cblas_dgemm;
import static org.bytedeco.openblas.global.openblas_nolapack.cblas_sgemm;

import lmu.util.Parallel;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * {@link Gemm} on OpenBLAS (JavaCPP preset {@code openblas_nolapack}), arguments already checked.
 *
 * <p>Copies: JavaCPP's {@code float[]} overloads take no offsets and hand whole arrays to native
 * code as JNI copies, in and out, on every call (inputs included); measured on a quiet moment,
 * 3200×384×384 ran at 157 GFLOP/s through them against 198 on native buffers, 2048³ at 74 against
 * 195. Instead each operand's used region is copied once into a native staging buffer kept per
 * thread (one bulk copy per operand, or per row when rows are far apart), and only C's m×n block
 * is copied back; at 3200×384×384 the copies take about 0.25 ms against about 5 ms of arithmetic.
 *
 * <p>Threads: OpenBLAS itself runs single-threaded; parallelism comes from {@link Parallel}, which
 * splits one product into row (or column) panels, one single-threaded OpenBLAS call each, and
 * spreads batched products over batch items. So OpenBLAS threads never compete with the engine's
 * own parallel loops, and a product called from inside a parallel loop runs on its thread alone.
 */
final class GemmOpenBlas {
    private GemmOpenBlas() {}

    /** Below this many multiply-adds a product runs on the calling thread. */
    static final long PARALLEL_MIN_MACS = 1L << 20;
    /**
     * Panels per thread one product is split into: handed out dynamically, two per thread keep both
     * cores busy when one is slowed by other load, at the price of packing B once more per panel.
     */
    static final int PANELS_PER_THREAD = 2;
    /** Staging buffers larger than this are freed after each product instead of kept. */
    private static final long KEEP_BYTES = 64L << 20;

    private static final String[] CORES = {
        "SAPPHIRERAPIDS", "COOPERLAKE", "SKYLAKEX", "HASWELL", "ZEN", "SANDYBRIDGE", "EXCAVATOR",
        "STEAMROLLER", "PILEDRIVER", "BULLDOZER", "NEHALEM", "BARCELONA", "CORE2", "PRESCOTT"
    };

    /** Loads the library and switches OpenBLAS's own threading off; returns a description. */
    static String load() {
        Loader.load(openblas_nolapack.class);
        openblas_nolapack.blas_set_num_threads(1);
        String version = openblas_nolapack.OPENBLAS_VERSION.trim();
        return version + (coreName() == null ? "" : " " + coreName());
    }

    /** The kernel family OpenBLAS chose for this CPU (its dynamic-arch table), or null. */
    private static String coreName() {
        try {
            Pointer selected = Loader.addressof("gotoblas");
            if (selected == null) return null;
            long table = new PointerPointer<Pointer>(selected).get(0).address();
            for (String core : CORES) {
                Pointer p = Loader.addressof("gotoblas_" + core);
                if (p != null && p.address() == table) return core.charAt(0) + core.substring(1).toLowerCase();
            }
        } catch (RuntimeException | LinkageError e) {
            // the name is decoration only
        }
        return null;
    }

    // ------------------------------------------------------------------ staging buffers

    /** Native buffers of one thread: slot 0 = A, 1 = B, 2 = C. */
    private static final class Stage {
        final BytePointer[] buf = new BytePointer[3];

        BytePointer get(int slot, long bytes) {
            BytePointer p = buf[slot];
            if (p == null || p.capacity() < bytes) {
                if (p != null) p.close();
                long size = Math.max(bytes, p == null ? 0 : Math.min(2 * p.capacity(), KEEP_BYTES));
                p = new BytePointer(size);
                if (p.isNull()) throw new OutOfMemoryError("Gemm: cannot allocate " + size + " native bytes");
                buf[slot] = p;
            }
            return p;
        }

        /** Frees the slot's buffer if it grew past {@link #KEEP_BYTES}. */
        void trim(int slot) {
            if (buf[slot] != null && buf[slot].capacity() > KEEP_BYTES) {
                buf[slot].close();
                buf[slot] = null;
            }
        }
    }

    private static final ThreadLocal<Stage> STAGE = ThreadLocal.withInitial(Stage::new);

    /** A staged operand: a typed view of a native buffer and its leading dimension there. */
    private static final class Staged {
        final Pointer ptr;
        final int ld;

        Staged(Pointer ptr, int ld) {
            this.ptr = ptr;
            this.ld = ld;
        }
    }

    // ------------------------------------------------------------------ float32

    static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
            float beta, float[] c, int cOff, int ldc) {
        Stage stage = STAGE.get();
        try {
            Staged sa = stageF(stage, 0, a, aOff, transA ? k : m, transA ? m : k, lda);
            Staged sb = stageF(stage, 1, b, bOff, transB ? n : k, transB ? k : n, ldb);
            long macs = (long) m * n * k;
            int parts = Parallel.inParallelRegion() ? 1
                    : (int) Math.min((long) PANELS_PER_THREAD * Parallel.threads(), Math.max(1, macs / PARALLEL_MIN_MACS));
            if (parts <= 1) {
                panelF(transA, transB, m, n, k, alpha, sa, sb, beta, c, cOff, ldc, 0, m, 0, n);
                return;
            }
            boolean byRows = m >= n || m >= 16 * parts;
            int len = byRows ? m : n;
            int grain = (len + parts - 1) / parts;
            Parallel.forRange(len, grain, (from, to) -> {
                if (byRows) panelF(transA, transB, m, n, k, alpha, sa, sb, beta, c, cOff, ldc, from, to, 0, n);
                else panelF(transA, transB, m, n, k, alpha, sa, sb, beta, c, cOff, ldc, 0, m, from, to);
            });
        } finally {
            stage.trim(0);
            stage.trim(1);
        }
    }

    static void sgemmBatched(boolean transA, boolean transB, int m, int n, int k, float alpha,
            float[] a, int aOff, int lda, int strideA, float[] b, int bOff, int ldb, int strideB,
            float beta, float[] c, int cOff, int ldc, int strideC, int batch) {
        if (batch == 1 || Parallel.inParallelRegion() || (long) batch * m * n * k < PARALLEL_MIN_MACS
                || batch < Parallel.threads()) {
            for (int i = 0; i < batch; i++) {
                sgemm(transA, transB, m, n, k, alpha, a, aOff + i * strideA, lda, b, bOff + i * strideB, ldb,
                        beta, c, cOff + i * strideC, ldc);
            }
            return;
        }
        Parallel.forRange(batch, 1, (from, to) -> {
            for (int i = from; i < to; i++) {
                sgemm(transA, transB, m, n, k, alpha, a, aOff + i * strideA, lda, b, bOff + i * strideB, ldb,
                        beta, c, cOff + i * strideC, ldc);
            }
        });
    }

    /**
     * Copies a stored {@code rows × cols} matrix (leading dimension {@code ld}) into slot
     * {@code slot}: as one span when the gaps between rows are small, else row by row, packed.
     */
    private static Staged stageF(Stage stage, int slot, float[] x, int off, int rows, int cols, int ld) {
        long span = (long) (rows - 1) * ld + cols;
        if (span <= 2L * rows * cols || rows == 1) {
            FloatPointer p = new FloatPointer(stage.get(slot, span * Float.BYTES));
            copyInF(p, 0, x, off, (int) span);
            return new Staged(p.position(0), ld);
        }
        FloatPointer p = new FloatPointer(stage.get(slot, (long) rows * cols * Float.BYTES));
        for (int r = 0; r < rows; r++) {
            p.position((long) r * cols).put(x, off + r * ld, cols);
        }
        return new Staged(p.position(0), cols);
    }

    /** Copies a long span with the pool's help when it is worth it. */
    private static void copyInF(FloatPointer p, long dst, float[] x, int off, int len) {
        int grain = 1 << 20;
        if (len <= grain || Parallel.inParallelRegion()) {
            new FloatPointer(p).position(dst).put(x, off, len);
            return;
        }
        Parallel.forRange(len, grain, (from, to) -> new FloatPointer(p).position(dst + from).put(x, off + from, to - from));
    }

    /** C[r0:r1, c0:c1] = alpha op(A) op(B) + beta C on the current thread, staged through its own C buffer. */
    private static void panelF(boolean transA, boolean transB, int m, int n, int k, float alpha,
            Staged sa, Staged sb, float beta, float[] c, int cOff, int ldc, int r0, int r1, int c0, int c1) {
        int rows = r1 - r0, cols = c1 - c0;
        Stage stage = STAGE.get();
        FloatPointer pc = new FloatPointer(stage.get(2, (long) rows * cols * Float.BYTES));
        int first = cOff + r0 * ldc + c0;
        boolean contiguous = cols == ldc || rows == 1;
        if (beta != 0f) {
            if (contiguous) pc.position(0).put(c, first, rows * cols);
            else for (int r = 0; r < rows; r++) pc.position((long) r * cols).put(c, first + r * ldc, cols);
        }
        long aPos = transA ? r0 : (long) r0 * sa.ld;
        long bPos = transB ? (long) c0 * sb.ld : c0;
        FloatPointer pa = new FloatPointer(sa.ptr).position(aPos);
        FloatPointer pb = new FloatPointer(sb.ptr).position(bPos);
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                rows, cols, k, alpha, pa, sa.ld, pb, sb.ld, beta, pc.position(0), cols);
        if (contiguous) pc.position(0).get(c, first, rows * cols);
        else for (int r = 0; r < rows; r++) pc.position((long) r * cols).get(c, first + r * ldc, cols);
        stage.trim(2);
    }

    // ------------------------------------------------------------------ float64

    static void dgemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
            double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
            double beta, double[] c, int cOff, int ldc) {
        Stage stage = STAGE.get();
        try {
            Staged sa = stageD(stage, 0, a, aOff, transA ? k : m, transA ? m : k, lda);
            Staged sb = stageD(stage, 1, b, bOff, transB ? n : k, transB ? k : n, ldb);
            long macs = (long) m * n * k;
            int parts = Parallel.inParallelRegion() ? 1
                    : (int) Math.min((long) PANELS_PER_THREAD * Parallel.threads(), Math.max(1, macs / PARALLEL_MIN_MACS));
            if (parts <= 1) {
                panelD(transA, transB, m, n, k, alpha, sa, sb, beta, c, cOff, ldc, 0, m, 0, n);
                return;
            }
            boolean byRows = m >= n || m >= 16 * parts;
            int len = byRows ? m : n;
            int grain = (len + parts - 1) / parts;
            Parallel.forRange(len, grain, (from, to) -> {
                if (byRows) panelD(transA, transB, m, n, k, alpha, sa, sb, beta, c, cOff, ldc, from, to, 0, n);
                else panelD(transA, transB, m, n, k, alpha, sa, sb, beta, c, cOff, ldc, 0, m, from, to);
            });
        } finally {
            stage.trim(0);
            stage.trim(1);
        }
    }

    static void dgemmBatched(boolean transA, boolean transB, int m, int n, int k, double alpha,
            double[] a, int aOff, int lda, int strideA, double[] b, int bOff, int ldb, int strideB,
            double beta, double[] c, int cOff, int ldc, int strideC, int batch) {
        if (batch == 1 || Parallel.inParallelRegion() || (long) batch * m * n * k < PARALLEL_MIN_MACS
                || batch < Parallel.threads()) {
            for (int i = 0; i < batch; i++) {
                dgemm(transA, transB, m, n, k, alpha, a, aOff + i * strideA, lda, b, bOff + i * strideB, ldb,
                        beta, c, cOff + i * strideC, ldc);
            }
            return;
        }
        Parallel.forRange(batch, 1, (from, to) -> {
            for (int i = from; i < to; i++) {
                dgemm(transA, transB, m, n, k, alpha, a, aOff + i * strideA, lda, b, bOff + i * strideB, ldb,
                        beta, c, cOff + i * strideC, ldc);
            }
        });
    }

    private static Staged stageD(Stage stage, int slot, double[] x, int off, int rows, int cols, int ld) {
        long span = (long) (rows - 1) * ld + cols;
        if (span <= 2L * rows * cols || rows == 1) {
            DoublePointer p = new DoublePointer(stage.get(slot, span * Double.BYTES));
            int grain = 1 << 19;
            if (span <= grain || Parallel.inParallelRegion()) {
                p.position(0).put(x, off, (int) span);
            } else {
                Parallel.forRange((int) span, grain, (from, to) -> new DoublePointer(p).position(from).put(x, off + from, to - from));
            }
            return new Staged(p.position(0), ld);
        }
        DoublePointer p = new DoublePointer(stage.get(slot, (long) rows * cols * Double.BYTES));
        for (int r = 0; r < rows; r++) {
            p.position((long) r * cols).put(x, off + r * ld, cols);
        }
        return new Staged(p.position(0), cols);
    }

    private static void panelD(boolean transA, boolean transB, int m, int n, int k, double alpha,
            Staged sa, Staged sb, double beta, double[] c, int cOff, int ldc, int r0, int r1, int c0, int c1) {
        int rows = r1 - r0, cols = c1 - c0;
        Stage stage = STAGE.get();
        DoublePointer pc = new DoublePointer(stage.get(2, (long) rows * cols * Double.BYTES));
        int first = cOff + r0 * ldc + c0;
        boolean contiguous = cols == ldc || rows == 1;
        if (beta != 0d) {
            if (contiguous) pc.position(0).put(c, first, rows * cols);
            else for (int r = 0; r < rows; r++) pc.position((long) r * cols).put(c, first + r * ldc, cols);
        }
        long aPos = transA ? r0 : (long) r0 * sa.ld;
        long bPos = transB ? (long) c0 * sb.ld : c0;
        DoublePointer pa = new DoublePointer(sa.ptr).position(aPos);
        DoublePointer pb = new DoublePointer(sb.ptr).position(bPos);
        cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                rows, cols, k, alpha, pa, sa.ld, pb, sb.ld, beta, pc.position(0), cols);
        if (contiguous) pc.position(0).get(c, first, rows * cols);
        else for (int r = 0; r < rows; r++) pc.position((long) r * cols).get(c, first + r * ldc, cols);
        stage.trim(2);
    }
}
