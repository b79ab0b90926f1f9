package lmu.optim;

import lmu.util.Checks;

/**
 * Learning rate as a function of the optimizer step (0-based). All schedules warm up linearly from
 * lr/warmup to lr over the first {@code warmup} steps.
 */
public interface LrSchedule {
    double lr(long step);

    /** Linear warmup, then constant. */
    static LrSchedule warmupConstant(double lr, long warmup) {
        return step -> lr * warm(step, warmup);
    }

    /** Linear warmup, then cosine decay to {@code minLr} at {@code totalSteps}, constant after. */
    static LrSchedule warmupCosine(double lr, long warmup, long totalSteps, double minLr) {
        if (totalSteps <= warmup) {
            throw new IllegalArgumentException("cosine schedule: total steps " + totalSteps + " must exceed warmup " + warmup);
        }
        return step -> {
            if (step < warmup) return lr * warm(step, warmup);
            double progress = Math.min(1.0, (double) (step - warmup) / (totalSteps - warmup));
            return minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
        };
    }

    /**
     * Linear warmup, then lr·gamma^floor((step − warmup)/every): the prototype's "×0.96 every 10k
     * steps after 1000 warmup steps" is {@code warmupStaircase(lr, 1000, 0.96, 10000)}.
     */
    static LrSchedule warmupStaircase(double lr, long warmup, double gamma, long every) {
        Checks.positive("staircase every", (int) Math.min(every, Integer.MAX_VALUE));
        return step -> step < warmup ? lr * warm(step, warmup) : lr * Math.pow(gamma, (step - warmup) / every);
    }

    private static double warm(long step, long warmup) {
        return warmup <= 0 || step >= warmup ? 1.0 : (step + 1) / (double) warmup;
    }
}
