/*
 * A stand-in libcuda.so.1 for machines without an NVIDIA driver: it loads, reports a driver
 * version, and answers every initialisation with CUDA_ERROR_NO_DEVICE, so tests can exercise the
 * engine's "CUDA not available" path (lmu.backend.cuda.Cuda) exactly as a GPU-less node would.
 *
 * JCuda's libJCudaDriver links about 300 cu* symbols but binds them lazily; only the calls the
 * availability probe makes before it gives up need to exist here.
 */
typedef int CUresult;
typedef int CUdevice;

#define CUDA_SUCCESS 0
#define CUDA_ERROR_NOT_INITIALIZED 3
#define CUDA_ERROR_NO_DEVICE 100

/* A CUDA 13.0 driver (1000 * major + 10 * minor). */
CUresult cuDriverGetVersion(int *version) { if (version) *version = 13000; return CUDA_SUCCESS; }
CUresult cuInit(unsigned int flags) { (void) flags; return CUDA_ERROR_NO_DEVICE; }
CUresult cuDeviceGetCount(int *count) { if (count) *count = 0; return CUDA_ERROR_NOT_INITIALIZED; }
