/** Turning per-frame CTC scores into label sequences and text: greedy and prefix beam search. */
package lmu.speech.decode;
