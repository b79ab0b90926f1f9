/** Text: the model vocabulary and transcript normalisation. */
package lmu.speech.text;
