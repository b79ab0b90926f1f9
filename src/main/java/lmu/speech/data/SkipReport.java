package lmu.speech.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the loader left out, and why: one entry per skipped utterance (file and reason), counts by
 * reason, and characters dropped from transcripts because the vocabulary lacks them.
 * Thread-safe; an utterance that fails again in a later epoch is recorded once.
 */
public final class SkipReport {
    /** One skipped utterance. */
    public record Entry(String id, Path file, String reason, String detail) {
        @Override
        public String toString() {
            return id + " (" + file + "): " + reason + (detail.isEmpty() ? "" : ": " + detail);
        }
    }

    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final Map<Character, AtomicLong> droppedChars = new ConcurrentHashMap<>();

    /** Records a skipped utterance; returns false when it was already recorded. */
    public boolean skip(Utterance u, String reason, String detail) {
        return entries.putIfAbsent(u.id(), new Entry(u.id(), u.audio(), reason, detail == null ? "" : detail)) == null;
    }

    void droppedCharacter(char c) {
        droppedChars.computeIfAbsent(c, k -> new AtomicLong()).incrementAndGet();
    }

    /** Number of utterances skipped. */
    public int skipped() {
        return entries.size();
    }

    /** Whether this utterance was skipped. */
    public boolean isSkipped(String id) {
        return entries.containsKey(id);
    }

    /** Skipped utterances, sorted by id. */
    public List<Entry> entries() {
        List<Entry> l = new ArrayList<>(entries.values());
        l.sort((a, b) -> a.id().compareTo(b.id()));
        return Collections.unmodifiableList(l);
    }

    /** Count of skipped utterances per reason, sorted by reason. */
    public Map<String, Integer> countsByReason() {
        Map<String, Integer> m = new TreeMap<>();
        for (Entry e : entries.values()) m.merge(e.reason(), 1, Integer::sum);
        return m;
    }

    /** Characters removed from transcripts (not in the vocabulary), with counts. */
    public Map<Character, Long> droppedCharacters() {
        Map<Character, Long> m = new LinkedHashMap<>();
        new TreeMap<>(droppedChars).forEach((c, n) -> m.put(c, n.get()));
        return m;
    }

    /** A short multi-line summary: counts by reason, then up to {@code examples} entries. */
    public String summary(int examples) {
        StringBuilder sb = new StringBuilder();
        sb.append(skipped()).append(" utterance(s) skipped");
        countsByReason().forEach((r, n) -> sb.append("\n  ").append(n).append(" x ").append(r));
        List<Entry> l = entries();
        for (int i = 0; i < Math.min(examples, l.size()); i++) sb.append("\n    ").append(l.get(i));
        if (l.size() > examples) sb.append("\n    ... ").append(l.size() - examples).append(" more");
        Map<Character, Long> d = droppedCharacters();
        if (!d.isEmpty()) {
            sb.append("\n  characters dropped from transcripts:");
            d.forEach((c, n) -> sb.append(String.format(" '%c' (U+%04X) x %d", c, (int) c, n)));
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return summary(5);
    }
}
