/** Recognition accuracy: corpus-level word and character error rates from Levenshtein alignments. */
package lmu.speech.metrics;
