package lmu.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The commands a user runs, end to end on the built-in corpus: dry run, bad configs, a debug run, eval, transcribe. */
class TrainCommandIT {
    @TempDir Path dir;
    private final StringWriter err = new StringWriter();

    /** Runs the CLI, returning exit code and captured standard output. */
    private Object[] run(String... args) {
        PrintStream saved = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            int code = Main.run(args, new PrintWriter(System.out, true), new PrintWriter(err, true));
            return new Object[] {code, buf.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setOut(saved);
        }
    }

    @Test
    void dryRunPrintsResolvedConfigModelAndDataWithoutTraining() {
        Object[] r = run("train", "--dry-run", "--preset", "conservative", "--set", "optim.warmup=7", "--output-dir", dir.toString());
        String out = (String) r[1];
        assertEquals(0, r[0], err.toString());
        assertTrue(out.contains("batch_size: 24") && out.contains("lr: 1.0E-4") && out.contains("warmup: 7"), out);
        assertTrue(out.contains("total") && out.contains("4400 utterances"), out);
        assertTrue(out.contains("dry run: nothing trained"), out);
        assertFalse(Files.exists(dir.resolve("metrics.csv")));
    }

    @Test
    void badConfigsNameTheKey() throws Exception {
        assertEquals(Main.EXIT_USAGE, run("train", "--dry-run", "--set", "optim.lrr=0.1")[0]);
        assertTrue(err.toString().contains("unknown key optim.lrr"), err.toString());
        assertEquals(Main.EXIT_USAGE, run("train", "--dry-run", "--set", "model.lmu.memory_order=0")[0]);
        assertTrue(err.toString().contains("model.lmu.memory_order"), err.toString());
        assertEquals(Main.EXIT_USAGE, run("train", "--dry-run", "--set", "train.batch_size=many")[0]);
        assertTrue(err.toString().contains("train.batch_size"), err.toString());
        Path yaml = Files.writeString(dir.resolve("bad.yaml"), "model: [1, 2\n");
        assertEquals(Main.EXIT_USAGE, run("train", "--dry-run", "--config", yaml.toString())[0]);
        assertTrue(err.toString().contains("not valid YAML"), err.toString());
        assertEquals(Main.EXIT_USAGE, run("train", "--dry-run", "--preset", "fast")[0]);
        assertTrue(err.toString().contains("--preset"), err.toString());
    }

    @Test
    void ranksDryRunPrintsTheWorldAndASmallBatchIsRejected() {
        Object[] r = run("train", "--dry-run", "--ranks", "4", "--batch-size", "10", "--output-dir", dir.toString());
        String out = (String) r[1];
        assertEquals(0, r[0], err.toString());
        assertTrue(out.contains("world: 4 rank(s) = 1 node x 4 CPU ranks"), out);
        assertTrue(out.contains("batch: 10 global = 2 or 3 per rank x 4 rank(s) (10 does not divide by 4: 2 rank(s) take 3, 2 take 2"), out);
        assertEquals(Main.EXIT_USAGE, run("train", "--dry-run", "--ranks", "4", "--batch-size", "3", "--output-dir", dir.toString())[0]);
        assertTrue(err.toString().contains("config key train.batch_size: the global batch 3 is smaller than the 4 ranks"), err.toString());
        assertEquals(Main.EXIT_USAGE, run("train", "--dry-run", "--ranks", "0")[0]);
        assertTrue(err.toString().contains("--ranks: expected 1 or more, got 0"), err.toString());
    }

    @Test
    void debugRunThenEvalTranscribeAndValidate() throws Exception {
        Path out = dir.resolve("run");
        Object[] r = run("train", "--debug", "--output-dir", out.toString(), "--set", "train.max_steps=2", "--set", "train.log_every=1", "--set",
                "model.hidden=32", "--set", "model.attention.heads=2", "--set", "model.lmu.memory_order=8", "--set", "data.feature_cache=none");
        assertEquals(0, r[0], err.toString() + r[1]);
        Path ck = out.resolve("checkpoint_epoch_1_step_2");
        assertTrue(Files.isDirectory(ck), (String) r[1]);
        assertTrue(Files.readString(out.resolve("metrics.csv")).lines().count() >= 2);

        Object[] v = run("validate-checkpoint", ck.toString());
        assertEquals(0, v[0], err.toString());
        assertTrue(((String) v[1]).contains("forward     ok"), (String) v[1]);

        Path tsv = dir.resolve("eval.tsv");
        Object[] e = run("eval", "--checkpoint", ck.toString(), "--data", "builtin-test", "--beam", "2", "--output", tsv.toString());
        assertEquals(0, e[0], err.toString());
        assertTrue(((String) e[1]).contains("WER") && ((String) e[1]).contains("160 utterances"), (String) e[1]);
        assertEquals(161, Files.readAllLines(tsv).size());

        Path audio = lmu.speech.data.BuiltinCorpus.test().utterances().get(0).audio();
        Object[] t = run("transcribe", "--checkpoint", ck.toString(), audio.toString(), dir.resolve("missing.wav").toString());
        assertEquals(Main.EXIT_FAILURE, t[0], "one of the two files does not exist");
        assertTrue(((String) t[1]).startsWith(audio.toString() + "\t"), (String) t[1]);
        assertTrue(err.toString().contains("missing.wav"), err.toString());

        Object[] resumed = run("train", "--debug", "--output-dir", out.toString(), "--resume", "auto", "--set", "train.max_steps=3",
                "--set", "model.hidden=32", "--set", "model.attention.heads=2", "--set", "model.lmu.memory_order=8", "--set",
                "data.feature_cache=none");
        assertEquals(0, resumed[0], err.toString());
        assertTrue(((String) resumed[1]).contains("resumed from") && ((String) resumed[1]).contains("step 2"), (String) resumed[1]);
    }
}
