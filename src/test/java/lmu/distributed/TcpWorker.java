package lmu.distributed;

import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;

/**
 * A rank in its own JVM for {@link TcpProcessesIT}: {@code TcpWorker PORT RANK SIZE MODE TIMEOUT_S}.
 * MODE {@code sums}: one float and one double all-reduce, a broadcast and an all-gather, printed as
 * {@code RESULT ...}; MODE {@code loop}: all-reduces every 20 ms until a collective fails, printing
 * {@code READY} after the first and {@code FAILED <epoch ms> <message>} at the failure.
 */
public final class TcpWorker {
    private TcpWorker() {}

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]), rank = Integer.parseInt(args[1]), size = Integer.parseInt(args[2]);
        String mode = args[3];
        Duration timeout = Duration.ofSeconds(Long.parseLong(args[4]));
        try (TcpCommunicator c = TcpCommunicator.connect("127.0.0.1", port, rank, size, timeout)) {
            if (mode.equals("sums")) {
                float[] f = {rank + 1, 10 * (rank + 1), -rank};
                c.allReduce(f, Communicator.Op.SUM);
                double[] m = {rank, -rank};
                c.allReduce(m, Communicator.Op.MAX);
                double[] b = {rank == 1 ? 42.5 : -1};
                c.broadcast(b, 0, 1, 1);
                float[] g = new float[2 * size];
                c.allGather(new float[] {rank, rank * rank}, g);
                boolean any = c.anyTrue(rank == size - 1);
                c.barrier();
                System.out.println("RESULT " + Arrays.toString(f) + " " + Arrays.toString(m) + " " + b[0] + " " + Arrays.toString(g) + " " + any);
            } else {
                float[] f = new float[1000];
                long n = 0;
                try {
                    while (true) {
                        Arrays.fill(f, 1);
                        c.allReduce(f, Communicator.Op.SUM);
                        if (f[0] != size) throw new IllegalStateException("sum " + f[0]);
                        if (n++ == 0) System.out.println("READY");
                        System.out.flush();
                        Thread.sleep(20);
                    }
                } catch (CommunicatorException e) {
                    System.out.println(String.format(Locale.ROOT, "FAILED %d %d %s", System.currentTimeMillis(), e.failedRank(),
                            e.getMessage()));
                    System.out.flush();
                    System.exit(3);
                }
            }
        }
    }
}
