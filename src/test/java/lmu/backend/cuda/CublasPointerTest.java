package lmu.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Test;

/**
 * The address hand-over from JCuda to JavaCPP that cuBLAS calls rely on; no native library is
 * loaded (JCuda's and JavaCPP's pointer classes are plain Java until used in a call).
 */
class CublasPointerTest {
    @Test
    void javacppPointerCarriesTheRawAddress() {
        assertEquals(0x7f00_1234_5678L, new org.bytedeco.javacpp.FloatPointer(Cublas.at(0x7f00_1234_5678L)).address());
    }

    @Test
    void jcudaAddressIncludesTheByteOffset() {
        CUdeviceptr base = new CUdeviceptr(); // null device pointer: address 0
        assertEquals(0, DevicePointers.address(base));
        assertEquals(4096 + 8, DevicePointers.address(base.withByteOffset(4096).withByteOffset(8)));
    }
}
