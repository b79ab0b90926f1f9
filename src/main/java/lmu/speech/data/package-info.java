/** Datasets (manifests, LibriSpeech, GigaSpeech, the built-in corpus) and the batching loader. */
package lmu.speech.data;
