/** Training: the step loop, configs and presets, checkpoints (safetensors) with exact resume, metrics logs. */
package lmu.train;
