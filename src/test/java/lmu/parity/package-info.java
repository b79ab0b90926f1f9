/** Whole-model parity with the independent PyTorch implementation in bench/reference (golden files). */
package lmu.parity;
