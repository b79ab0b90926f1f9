/** The CPU backend: plain multi-threaded Java loops and OpenBLAS matrix products; the reference for every other backend. */
package lmu.backend.cpu;
