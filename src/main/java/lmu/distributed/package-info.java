/** Collective communication between data-parallel ranks (threads, processes over TCP, GPUs through NCCL) and the description of the world they form. */
package lmu.distributed;
