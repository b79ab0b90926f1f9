package lmu.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Metrics of a run, appended as JSON lines ({@code metrics.jsonl}, one object per record, any keys)
 * and as CSV ({@code metrics.csv}, a fixed column set, blank where a record lacks a column). Both
 * are flushed per record so a killed run keeps everything logged before it died.
 */
public final class MetricsLog implements Closeable {
    /** CSV columns, in order. */
    public static final List<String> COLUMNS = List.of("kind", "epoch", "step", "loss", "lr", "loss_scale", "grad_norm",
            "steps_per_s", "frames_per_s", "valid_loss", "wer", "cer", "skipped_steps", "time_s");

    private static final Gson GSON = new GsonBuilder().serializeSpecialFloatingPointValues().create();
    private final BufferedWriter jsonl;
    private final BufferedWriter csv;

    public MetricsLog(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path csvFile = dir.resolve("metrics.csv");
        boolean header = !Files.exists(csvFile) || Files.size(csvFile) == 0;
        jsonl = Files.newBufferedWriter(dir.resolve("metrics.jsonl"), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        csv = Files.newBufferedWriter(csvFile, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        if (header) {
            csv.write(String.join(",", COLUMNS));
            csv.newLine();
            csv.flush();
        }
    }

    /** Appends one record; {@code kind} is "train", "valid" or "event". */
    public synchronized void log(String kind, Map<String, ?> values) throws IOException {
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("kind", kind);
        rec.putAll(values);
        jsonl.write(GSON.toJson(rec));
        jsonl.newLine();
        jsonl.flush();
        List<String> cells = new ArrayList<>();
        for (String c : COLUMNS) {
            Object v = rec.get(c);
            cells.add(v == null ? "" : csvCell(v));
        }
        csv.write(String.join(",", cells));
        csv.newLine();
        csv.flush();
    }

    private static String csvCell(Object v) {
        String s = v.toString();
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    @Override
    public void close() throws IOException {
        jsonl.close();
        csv.close();
    }
}
