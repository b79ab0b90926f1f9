/** Connectionist temporal classification: the CTC loss and its gradient on plain arrays. */
package lmu.speech.ctc;
