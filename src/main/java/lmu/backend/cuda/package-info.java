/**
 * Runs the engine's ops on an NVIDIA GPU through the CUDA driver API: availability probing,
 * contexts, kernel modules loaded from the jar's fatbins, checked launches, device memory.
 *
 * <p>Only {@link lmu.backend.cuda.Cuda}, {@link lmu.backend.cuda.GpuEnvironment} and the plain-Java
 * helpers ({@link lmu.backend.cuda.CachingAllocator}, {@link lmu.backend.cuda.Dim3},
 * {@link lmu.backend.cuda.LaunchGeometry}, {@link lmu.backend.cuda.CudaException}) may be touched
 * before {@link lmu.backend.cuda.Cuda#isAvailable()} has returned true: every other class here
 * refers to JCuda and must only be loaded on a machine where the driver loaded.
 */
package lmu.backend.cuda;
