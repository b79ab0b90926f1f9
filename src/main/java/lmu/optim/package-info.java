/** Optimizers (Adam, AdamW) with float32 state, global-norm gradient clipping and learning-rate schedules. */
package lmu.optim;
