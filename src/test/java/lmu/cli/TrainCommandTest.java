package lmu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import lmu.backend.cuda.Cuda;
import lmu.tensor.Device;
import org.junit.jupiter.api.Test;

/** How {@code train} and {@code bench-step} choose their device. */
class TrainCommandTest {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    private String printed() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void cudaWithoutAGpuFailsWithTheReasonCudaGives() {
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        for (String flag : new String[] {"cuda", "cuda:1"}) {
            UnavailableException e = assertThrows(UnavailableException.class, () -> TrainCommand.chooseDevice(flag, 1, out));
            assertEquals("--device " + flag + ": CUDA is not available: " + Cuda.unavailabilityCause().getMessage(), e.getMessage());
        }
    }

    @Test
    void cudaWithoutAGpuExitsWithTheUnavailableCodeAndTheReason() {
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        StringWriter o = new StringWriter(), err = new StringWriter();
        int code = Main.run(new String[] {"train", "--device", "cuda"}, new PrintWriter(o, true), new PrintWriter(err, true));
        assertTrue(err.toString().contains("--device cuda: CUDA is not available: " + Cuda.unavailabilityCause().getMessage()),
                err.toString());
        assertTrue(code != 0, "exit code " + code);
    }

    @Test
    void autoPicksTheCpuWithoutAGpuAndSaysWhy() {
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        assertEquals(Device.CPU, TrainCommand.chooseDevice("auto", 1, out));
        assertEquals("device: auto -> cpu (" + Cuda.unavailabilityCause().getMessage() + ")", printed().strip());
    }

    @Test
    void autoWithSeveralRanksIsCpuDataParallelAndOneNamedGpuWithRanksIsRefused() {
        assertEquals(Device.CPU, TrainCommand.chooseDevice("auto", 2, out));
        assertTrue(printed().contains("device: auto -> cpu (--ranks 2: in-process data parallel runs on the CPU)"), printed());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainCommand.chooseDevice("cuda:0", 4, out));
        assertTrue(e.getMessage().startsWith("--ranks 4 with --device cuda:0: cuda:N names one GPU; for 4 GPUs use --device cuda"
                + " (ranks on cuda:0..3"), e.getMessage());
    }

    @Test
    void gpuRanksAreEveryVisibleGpuUnlessGivenAndNeverMoreThanVisible() {
        assertEquals(4, TrainCommand.gpuRanks("cuda", 0, 4));
        assertEquals(4, TrainCommand.gpuRanks("auto", 0, 4));
        assertEquals(2, TrainCommand.gpuRanks("cuda", 2, 4));
        assertEquals(1, TrainCommand.gpuRanks("cuda:3", 0, 4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainCommand.gpuRanks("cuda", 8, 4));
        assertTrue(e.getMessage().startsWith("--ranks 8 with --device cuda: one rank per GPU, but 4 GPU(s) are visible"), e.getMessage());
    }

    @Test
    void cpuAndBadValues() {
        assertEquals(Device.CPU, TrainCommand.chooseDevice(" CPU ", 1, out));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainCommand.chooseDevice("gpu", 1, out));
        assertEquals("--device: expected auto, cpu, cuda or cuda:N, got 'gpu'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TrainCommand.chooseDevice("cuda:x", 1, out));
    }
}
