/** Connectionist temporal classification: the CTC loss and its gradient, on plain arrays and as an autograd op. */
package lmu.speech.ctc;
