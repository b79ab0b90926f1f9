package lmu.backend.cuda.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class DeviceConstantsTest {
    /** Stands for a backend: compared by identity. */
    private static final class FakeDevice {
        final String name;

        FakeDevice(String name) {
            this.name = name;
        }
    }

    @Test
    void oneValuePerObjectAndDeviceMadeOnce() {
        DeviceConstants<FakeDevice, int[]> c = new DeviceConstants<>(null);
        FakeDevice a = new FakeDevice("a"), b = new FakeDevice("b");
        Object key1 = new Object(), key2 = new Object();
        AtomicInteger made = new AtomicInteger();
        int[] v1a = c.get(key1, a, () -> new int[] {made.incrementAndGet()});
        assertSame(v1a, c.get(key1, a, () -> new int[] {made.incrementAndGet()}));
        int[] v1b = c.get(key1, b, () -> new int[] {made.incrementAndGet()});
        int[] v2a = c.get(key2, a, () -> new int[] {made.incrementAndGet()});
        assertNotSame(v1a, v1b);
        assertNotSame(v1a, v2a);
        assertEquals(3, made.get());
        assertEquals(List.of(1, 2, 3), List.of(v1a[0], v1b[0], v2a[0]));
        assertEquals(2, c.size());
        assertThrows(IllegalArgumentException.class, () -> c.get(null, a, () -> new int[0]));
        assertThrows(IllegalArgumentException.class, () -> c.get(key1, null, () -> new int[0]));
    }

    /** A dropped object's entries leave the cache and every (device, value) pair reaches onDrop once; a live one's stay. */
    @Test
    void droppingTheObjectHandsEachOfItsValuesToOnDrop() throws InterruptedException {
        ConcurrentLinkedQueue<String> dropped = new ConcurrentLinkedQueue<>();
        DeviceConstants<FakeDevice, String> c = new DeviceConstants<>((device, value) -> dropped.add(device.name + ":" + value));
        FakeDevice a = new FakeDevice("a"), b = new FakeDevice("b");
        Object kept = new Object();
        c.get(kept, a, () -> "kept");
        addEntriesOfATemporaryObject(c, a, b);
        assertEquals(2, c.size());
        for (int i = 0; i < 200 && dropped.size() < 2; i++) {
            System.gc();
            Thread.sleep(10);
        }
        assertEquals(List.of("a:tmp-a", "b:tmp-b"), dropped.stream().sorted().toList());
        assertEquals(1, c.size());
        assertSame("kept", c.get(kept, a, () -> "new"));
        Thread.sleep(20);
        assertEquals(2, dropped.size(), "onDrop runs once per entry");
    }

    private static void addEntriesOfATemporaryObject(DeviceConstants<FakeDevice, String> c, FakeDevice a, FakeDevice b) {
        Object tmp = new Object();
        c.get(tmp, a, () -> "tmp-a");
        c.get(tmp, b, () -> "tmp-b");
    }
}
