package lmu.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Ranks as separate JVM processes on loopback: rendezvous, collectives, and a killed process. */
class TcpProcessesIT {
    /** Per-operation timeout of the workers: a failure must be reported long before it. */
    static final int OP_TIMEOUT_S = 60;
    private final List<Process> started = new ArrayList<>();
    private final List<BlockingQueue<String>> lines = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        for (Process p : started) p.destroyForcibly();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private void start(int port, int rank, int size, String mode) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx64m", "-cp", System.getProperty("java.class.path"), TcpWorker.class.getName(),
                Integer.toString(port), Integer.toString(rank), Integer.toString(size), mode, Integer.toString(OP_TIMEOUT_S))
                .redirectErrorStream(true).start();
        started.add(p);
        BlockingQueue<String> q = new LinkedBlockingQueue<>();
        lines.add(q);
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) q.add(l);
            } catch (IOException ignored) {
                // the process was killed
            }
        });
        t.setDaemon(true);
        t.start();
    }

    /** The first line of rank {@code r} starting with {@code prefix}, waiting at most {@code seconds}. */
    private String await(int r, String prefix, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        List<String> seen = new ArrayList<>();
        while (System.nanoTime() < deadline) {
            String l = lines.get(r).poll(100, TimeUnit.MILLISECONDS);
            if (l == null) continue;
            if (l.startsWith(prefix)) return l;
            seen.add(l);
        }
        throw new AssertionError("rank " + r + " printed no " + prefix + " line within " + seconds + " s; output: " + seen);
    }

    @Test
    void threeProcessesRendezvousAndReduce() throws Exception {
        int port = freePort(), size = 3;
        for (int r = size - 1; r >= 0; r--) start(port, r, size, "sums"); // rank 0 last: the others must retry until it listens
        for (int r = 0; r < size; r++) {
            String l = await(r, "RESULT", 60);
            // sums of (r + 1, 10 (r + 1), -r) over r = 0..2; max of (r, -r); rank 1's 42.5; (r, r^2) gathered; anyTrue
            assertEquals("RESULT [6.0, 60.0, -3.0] [2.0, 0.0] 42.5 [0.0, 0.0, 1.0, 1.0, 2.0, 4.0] true", l, "rank " + r);
            assertTrue(started.get(size - 1 - r).waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, started.get(size - 1 - r).exitValue());
        }
    }

    @Test
    void aKilledProcessMakesTheOthersFailFastNamingIt() throws Exception {
        int port = freePort(), size = 3;
        for (int r = 0; r < size; r++) start(port, r, size, "loop");
        for (int r = 0; r < size; r++) await(r, "READY", 60);
        long killed = System.currentTimeMillis();
        started.get(2).destroyForcibly();
        for (int r = 0; r < 2; r++) {
            String l = await(r, "FAILED", 30);
            String[] parts = l.split(" ", 4);
            long after = Long.parseLong(parts[1]) - killed;
            System.out.println("TcpProcessesIT: rank " + r + " failed " + after + " ms after rank 2 was killed: " + parts[3]);
            assertEquals("2", parts[2], "failed rank reported by rank " + r + ": " + l);
            assertTrue(parts[3].contains("rank 2"), l);
            assertTrue(after < 1000L * OP_TIMEOUT_S / 2, "rank " + r + " noticed after " + after + " ms, not long before the timeout");
            assertTrue(started.get(r).waitFor(30, TimeUnit.SECONDS), "rank " + r + " exits");
            assertEquals(3, started.get(r).exitValue());
        }
    }

    @Test
    void killingRankZeroEndsTheOthers() throws Exception {
        int port = freePort(), size = 3;
        for (int r = 0; r < size; r++) start(port, r, size, "loop");
        for (int r = 0; r < size; r++) await(r, "READY", 60);
        started.get(0).destroyForcibly();
        for (int r = 1; r < size; r++) {
            String l = await(r, "FAILED", 30);
            assertTrue(l.contains("lost the connection to rank 0"), l);
        }
    }
}
