/** Layers with parameters (modules) built from ops: linear, normalisation, attention, the encoder and the CTC model. */
package lmu.nn;
