package lmu.backend.sim;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import lmu.backend.StepGraph;

/**
 * What a CUDA graph freezes, on the simulated device: while a capture is under way every call on
 * the device (backend ops, fused kernel families, fills, element writes, host-to-device copies,
 * allocations, which zero their memory) is appended as a replayable action bound to the same
 * storages and to the argument values it had when it was recorded (host arrays among the arguments
 * are copied then, as a captured copy from host memory would be). As on a GPU, captured work does
 * not take effect: when the capture ends, every storage that existed before it is put back as it
 * was, and only {@link StepGraph#replay} runs the work. Reading a device value on the host while
 * capturing (a host synchronisation inside the step) is an error, as it is during stream capture.
 */
final class SimRecording {
    private final Map<SimStorage, float[]> before = new IdentityHashMap<>();
    private final List<Runnable> actions = new ArrayList<>();

    /** Starts a recording, remembering the contents of every live storage. */
    SimRecording(List<WeakReference<SimStorage>> live) {
        for (WeakReference<SimStorage> r : live) {
            SimStorage s = r.get();
            if (s != null) before.put(s, s.data().clone());
        }
    }

    /** Appends an action (already run once while recording: its effect is undone by {@link #end}). */
    void add(Runnable action) {
        actions.add(action);
    }

    int size() {
        return actions.size();
    }

    /** Puts every storage that existed before the capture back as it was. */
    void restore() {
        before.forEach((s, data) -> System.arraycopy(data, 0, s.data(), 0, data.length));
    }

    /** The recorded actions as a graph (the storages restored first). */
    StepGraph end() {
        restore();
        List<Runnable> frozen = List.copyOf(actions);
        return new StepGraph() {
            private boolean closed;

            @Override
            public void replay() {
                if (closed) throw new IllegalStateException("SimRecording: the graph is closed");
                for (Runnable a : frozen) a.run();
            }

            @Override
            public void close() {
                closed = true;
            }

            @Override
            public String toString() {
                return "simulated graph of " + frozen.size() + " actions";
            }
        };
    }
}
