/**
 * Legendre Memory Unit layers: the Legendre state space and its discretisation, the impulse
 * response and causal convolution of the parallel mode, and the recurrent cell with backward
 * through time.
 */
package lmu.nn.lmu;
