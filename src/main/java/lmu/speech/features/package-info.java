/** Log-mel features (window, power spectrum, mel filterbank, log), normalisation and augmentation. */
package lmu.speech.features;
