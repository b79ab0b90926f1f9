/**
 * Runs the engine's ops on an NVIDIA GPU through the CUDA driver API: availability probing,
 * contexts, kernel modules loaded from the jar's fatbins, checked launches, device memory, the
 * {@link lmu.backend.cuda.CudaBackend} over {@link lmu.backend.cuda.CudaStorage} tensors, and the
 * CPU-vs-CUDA parity suite ({@link lmu.backend.cuda.CudaSelfTest}: a list of
 * {@link lmu.backend.cuda.ParityCheck}s held to one {@link lmu.backend.cuda.Tolerance} formula).
 *
 * <p>Only {@link lmu.backend.cuda.Cuda}, {@link lmu.backend.cuda.GpuEnvironment} and the plain-Java
 * helpers ({@link lmu.backend.cuda.CachingAllocator}, {@link lmu.backend.cuda.Dim3},
 * {@link lmu.backend.cuda.LaunchGeometry}, {@link lmu.backend.cuda.KernelManifest},
 * {@link lmu.backend.cuda.StridedIndex}, {@link lmu.backend.cuda.Tolerance},
 * {@link lmu.backend.cuda.CudaException}, {@link lmu.backend.cuda.DeviceOutOfMemoryException}) may
 * be touched before {@link lmu.backend.cuda.Cuda#isAvailable()} has returned true: every other
 * class here refers to JCuda and must only be used on a machine where the driver loaded.
 */
package lmu.backend.cuda;
