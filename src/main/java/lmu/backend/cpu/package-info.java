/** The CPU backend: plain-Java kernels and the OpenBLAS-backed matrix product. */
package lmu.backend.cpu;
