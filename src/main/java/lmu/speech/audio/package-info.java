/** Audio decoding (WAV, FLAC, Ogg/Opus) to mono float samples, and band-limited resampling. */
package lmu.speech.audio;
