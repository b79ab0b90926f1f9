package lmu.backend.cuda;

import java.lang.reflect.Field;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * Raw addresses of JCuda handles, for handing device pointers and streams to libraries bound
 * through JavaCPP ({@code org.bytedeco:cuda}: cuBLAS). JCuda keeps the address in a private field
 * of {@link NativePointerObject} (and a pointer's offset in {@link Pointer}); they are read through reflection (JCuda is on the class path,
 * an unnamed module, so this needs no JVM flag).
 */
final class DevicePointers {
    private DevicePointers() {}

    private static final Field NATIVE_POINTER = field(NativePointerObject.class, "nativePointer");
    private static final Field BYTE_OFFSET = field(Pointer.class, "byteOffset");

    private static Field field(Class<?> owner, String name) {
        try {
            Field f = owner.getDeclaredField(name);
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("DevicePointers: cannot read " + owner.getName() + "." + name + " "
                    + "(JCuda version other than 12.6.0 on the class path?)", e);
        }
    }

    /** The device address {@code p} points at (its base plus its byte offset). */
    static long address(CUdeviceptr p) {
        try {
            return handle(p) + BYTE_OFFSET.getLong(p);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("DevicePointers: cannot read the byte offset of " + p, e);
        }
    }

    /** The native handle of a JCuda object (e.g. a {@code CUstream}'s {@code cudaStream_t}). */
    static long handle(NativePointerObject o) {
        try {
            return NATIVE_POINTER.getLong(o);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("DevicePointers: cannot read the native pointer of " + o, e);
        }
    }
}
