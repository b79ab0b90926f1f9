package lmu.backend.cuda.kernels;

import java.lang.ref.Cleaner;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * Device copies of host objects that are fixed for their lifetime (an LMU layer's impulse response
 * or state-space matrices), one per (object, device), made on first use and kept while the object
 * is reachable: the objects are weak keys compared by identity (they must not override equals).
 * When an object becomes unreachable, its entries leave the cache and each value is handed to the
 * {@code onDrop} callback given at construction, on a cleaner thread: the callback must only queue
 * the release for the device's own thread (e.g. {@code CudaBackend.releaseLater}), since device
 * memory is freed there.
 *
 * @param <D> the device (a backend); compared by identity
 * @param <V> what is kept per object and device
 */
final class DeviceConstants<D, V> {
    private static final Cleaner CLEANER = Cleaner.create();

    private final Map<Object, Map<D, V>> byKey = Collections.synchronizedMap(new WeakHashMap<>());
    private final BiConsumer<D, V> onDrop;

    /**
     * @param onDrop called once per (object, device) entry after the object became unreachable, on
     *     a cleaner thread; null when dropping the reference to the value is enough (values whose
     *     device memory is freed by their own cleaners, such as tensors)
     */
    DeviceConstants(BiConsumer<D, V> onDrop) {
        this.onDrop = onDrop;
    }

    /**
     * The value for (key, device), made by {@code make} on first use. {@code make} runs under the
     * cache's lock and must not refer to {@code key} from the value it returns (the value would keep
     * the key reachable and never be dropped).
     *
     * @throws IllegalArgumentException if key or device is null
     */
    V get(Object key, D device, Supplier<V> make) {
        if (key == null || device == null) throw new IllegalArgumentException("DeviceConstants: key and device must be set");
        synchronized (byKey) {
            Map<D, V> byDevice = byKey.computeIfAbsent(key, k -> new IdentityHashMap<>());
            V v = byDevice.get(device);
            if (v == null) {
                v = make.get();
                byDevice.put(device, v);
                if (onDrop != null) CLEANER.register(key, new Drop<>(onDrop, device, v));
            }
            return v;
        }
    }

    /** Objects with entries (for tests and reports; stale keys are expunged first). */
    int size() {
        return byKey.size();
    }

    /** The cleaner's action: holds the device and the value, never the key. */
    private record Drop<D, V>(BiConsumer<D, V> onDrop, D device, V value) implements Runnable {
        @Override
        public void run() {
            onDrop.accept(device, value);
        }
    }
}
