package lmu.train;

import java.util.Iterator;

/** Batches of one epoch in a deterministic order, so a run can resume in the middle of an epoch. */
public interface BatchSource {
    /**
     * @param epoch 1-based epoch (the shuffle depends on it)
     * @param skip where to start: 0, or the {@link TrainBatch#resumeAt()} of the last batch consumed
     */
    Iterator<TrainBatch> epoch(int epoch, int skip);

    /** Batches per epoch (for progress and ETA). */
    int batchesPerEpoch();
}
