package lmu.backend.cuda;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.Map;
import java.util.function.IntSupplier;
import jcuda.driver.CUresult;

/**
 * Runs JCuda driver calls and turns failures into {@link CudaException}s that carry the call's
 * name and {@code CUresult}. JCuda, with exceptions enabled, throws {@code jcuda.CudaException}
 * holding only the result's name; this class maps that name back to its number.
 */
final class Driver {
    private Driver() {}

    private static final Map<String, Integer> CODES = codes();

    private static Map<String, Integer> codes() {
        Map<String, Integer> m = new HashMap<>();
        for (Field f : CUresult.class.getFields()) {
            if (f.getType() == int.class && Modifier.isStatic(f.getModifiers())) {
                try {
                    m.put(f.getName(), f.getInt(null));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException("Driver: cannot read CUresult." + f.getName(), e);
                }
            }
        }
        return m;
    }

    /** The {@code CUresult} of {@code call}, whether JCuda returned it or threw it. */
    static int code(IntSupplier call) {
        try {
            return call.getAsInt();
        } catch (jcuda.CudaException e) {
            return codeOf(e);
        }
    }

    /**
     * Runs {@code call} and throws unless it returned {@code CUDA_SUCCESS}.
     *
     * @throws CudaException naming {@code op}, the result and {@code context}
     */
    static void check(String op, IntSupplier call, String context) {
        int rc;
        try {
            rc = call.getAsInt();
        } catch (jcuda.CudaException e) {
            throw new CudaException(op, codeOf(e), nameOf(codeOf(e)), null, null, context, e);
        }
        if (rc != CUresult.CUDA_SUCCESS) throw exception(op, rc, context);
    }

    /** As {@link #check(String, IntSupplier, String)} without context. */
    static void check(String op, IntSupplier call) {
        check(op, call, null);
    }

    static CudaException exception(String op, int code, String message) {
        return new CudaException(op, code, nameOf(code), null, null, message);
    }

    /** The {@code CUresult} named by a JCuda exception's message (its first word), or UNKNOWN. */
    static int codeOf(jcuda.CudaException e) {
        String msg = e.getMessage() == null ? "" : e.getMessage().trim();
        int end = 0;
        while (end < msg.length() && (Character.isLetterOrDigit(msg.charAt(end)) || msg.charAt(end) == '_')) end++;
        Integer code = CODES.get(msg.substring(0, end));
        return code == null ? CudaException.CUDA_ERROR_UNKNOWN : code;
    }

    static String nameOf(int code) {
        return CUresult.stringFor(code);
    }
}
