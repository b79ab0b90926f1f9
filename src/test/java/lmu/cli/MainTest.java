package lmu.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class MainTest {
    private final StringWriter out = new StringWriter(), err = new StringWriter();

    private int run(String... args) {
        return Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    @Test
    void helpListsCommands() {
        assertEquals(0, run("--help"));
        for (String c : new String[] {"train", "eval", "transcribe", "prepare", "check"}) {
            assertTrue(out.toString().contains(c), "help mentions " + c);
        }
    }

    @Test
    void trainHelpShowsEveryFlagWithItsDefault() {
        assertEquals(0, run("train", "--help"));
        String h = out.toString();
        for (String flag : new String[] {"--config", "--preset", "--batch-size", "--lr", "--epochs", "--mixed-precision", "--data",
            "--subset", "--output-dir", "--resume", "--seed", "--set", "--dry-run", "--debug", "--device"}) {
            assertTrue(h.contains(flag), "train --help lists " + flag);
        }
        assertTrue(h.contains("Default: runs/latest"), h);
    }

    @Test
    void unknownFlagIsOneClearLineAndExitCode2() {
        assertEquals(Main.EXIT_USAGE, run("train", "--bogus"));
        assertTrue(err.toString().startsWith("error: Unknown option: '--bogus'"), err.toString());
    }

    @Test
    void badValueNamesTheFlag() {
        assertEquals(Main.EXIT_USAGE, run("train", "--epochs", "many"));
        assertTrue(err.toString().contains("--epochs"), err.toString());
    }

    @Test
    void checkParityWithoutAGpuSaysItWasSkippedAndWhy() {
        org.junit.jupiter.api.Assumptions.assumeFalse(lmu.backend.cuda.Cuda.isAvailable(), "a GPU is present: the parity suite runs instead");
        java.io.PrintStream saved = System.out;
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8));
            code = run("check", "--parity");
        } finally {
            System.setOut(saved);
        }
        String report = bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, code, report);
        assertTrue(report.contains("result      CPU only"), report);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("parity      skipped: its (\\d+) CPU-vs-CUDA checks need a GPU").matcher(report);
        assertTrue(m.find(), report);
        assertEquals(lmu.backend.cuda.CudaSelfTest.checks().size(), Integer.parseInt(m.group(1)));
    }

    @Test
    void checkWithoutAGpuSkipsTheNcclAllReduceAndSaysWhy() {
        org.junit.jupiter.api.Assumptions.assumeFalse(lmu.backend.cuda.Cuda.isAvailable(), "a GPU is present: the NCCL check runs instead");
        java.io.PrintStream saved = System.out;
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8));
            code = run("check");
        } finally {
            System.setOut(saved);
        }
        String report = bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, code, report);
        String why = lmu.backend.cuda.Cuda.unavailabilityCause().getMessage();
        assertTrue(report.contains("nccl        skipped: the NCCL all-reduce needs a GPU; " + why + System.lineSeparator()), report);
        assertFalse(report.contains("nccl        PASS") || report.contains("nccl        FAIL"), report);
    }
}
