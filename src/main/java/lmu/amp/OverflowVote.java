package lmu.amp;

/**
 * How the ranks of a data-parallel run agree on whether a step overflowed: every rank passes its
 * local finding and every rank must get the same answer, true when any rank found a non-finite
 * gradient (a logical OR; as a collective, an all-reduce MAX of 0/1). The single-process vote
 * returns the local finding.
 *
 * <pre>{@code
 * trainer.lossScaler().agreeWith(local -> communicator.allReduceMax(local ? 1 : 0) > 0);
 * }</pre>
 */
@FunctionalInterface
public interface OverflowVote {
    /** One process alone: its own finding. */
    OverflowVote LOCAL = local -> local;

    /**
     * @param localOverflow whether this rank found an inf or NaN in its gradients
     * @return whether any rank did (the same value on every rank)
     */
    boolean anyOverflow(boolean localOverflow);
}
