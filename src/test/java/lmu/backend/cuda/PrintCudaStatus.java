package lmu.backend.cuda;

/**
 * Run in a child JVM by the tests: prints {@code available=<bool>}, {@code driver=<x.y>} and
 * {@code cause=<message>}, or with {@code --load-only} just loads {@link Cuda} without probing.
 */
public final class PrintCudaStatus {
    private PrintCudaStatus() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--load-only")) {
            Class.forName("lmu.backend.cuda.Cuda");
            Class.forName("lmu.backend.cuda.GpuEnvironment");
            System.out.println("loaded");
            return;
        }
        boolean ok = Cuda.isAvailable();
        System.out.println("available=" + ok);
        System.out.println("driver=" + Cuda.versionString(Cuda.driverVersion()));
        Throwable cause = Cuda.unavailabilityCause();
        System.out.println("cause=" + (cause == null ? "" : cause.getMessage().replace('\n', ' ')));
        System.out.println("causeType=" + (cause == null ? "" : cause.getClass().getName()));
        try {
            Cuda.ensureAvailable();
            System.out.println("ensure=ok");
        } catch (IllegalStateException e) {
            System.out.println("ensure=" + e.getClass().getSimpleName());
        }
    }
}
