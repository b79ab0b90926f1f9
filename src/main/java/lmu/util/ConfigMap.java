package lmu.util;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A typed, checked view of one section of a YAML config. Every error names the full dotted key
 * ({@code model.heads}), what was expected and what was found; {@link #rejectUnknown()} catches typos.
 *
 * <pre>
 * ConfigMap model = root.section("model");
 * int heads = model.getInt("heads", 6);   // default when absent
 * model.rejectUnknown();                   // "unknown key model.haeds (known: ...)"
 * </pre>
 */
public final class ConfigMap {
    private final String path;
    private final Map<String, Object> values;
    private final Set<String> read = new TreeSet<>();

    public ConfigMap(String path, Map<String, Object> values) {
        this.path = path;
        this.values = values == null ? new LinkedHashMap<>() : values;
    }

    /** The root of a parsed YAML document (null for an empty file). */
    @SuppressWarnings("unchecked")
    public static ConfigMap root(Object yaml, String source) {
        if (yaml == null) return new ConfigMap("", new LinkedHashMap<>());
        if (!(yaml instanceof Map)) {
            throw new IllegalArgumentException(source + ": the top level must be a mapping of keys, got " + kind(yaml));
        }
        checkKeys((Map<?, ?>) yaml, "", source, 0);
        return new ConfigMap("", (Map<String, Object>) yaml);
    }

    /** Every key of every nested mapping must be text (YAML also allows numbers, lists, ... as keys). */
    private static void checkKeys(Map<?, ?> m, String path, String source, int depth) {
        if (depth > 64) throw new IllegalArgumentException(source + ": mappings nested more than 64 deep at " + path);
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getKey() instanceof String k)) {
                throw new IllegalArgumentException(source + ": key " + e.getKey() + (path.isEmpty() ? "" : " in " + path)
                        + " must be text, got " + (e.getKey() == null ? "null" : kind(e.getKey())));
            }
            if (e.getValue() instanceof Map<?, ?> sub) checkKeys(sub, path.isEmpty() ? k : path + "." + k, source, depth + 1);
        }
    }

    private String key(String k) {
        return path.isEmpty() ? k : path + "." + k;
    }

    public String path() {
        return path;
    }

    public boolean has(String k) {
        return values.containsKey(k);
    }

    private Object raw(String k) {
        read.add(k);
        return values.get(k);
    }

    private static String kind(Object v) {
        if (v instanceof Map) return "a mapping";
        if (v instanceof List) return "a list";
        if (v instanceof String s) return "the text \"" + shorten(s) + "\"";
        return v.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT) + " " + shorten(String.valueOf(v));
    }

    private static String shorten(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }

    private IllegalArgumentException wrong(String k, String expected, Object v) {
        return new IllegalArgumentException("config key " + key(k) + ": expected " + expected + ", got " + kind(v));
    }

    @SuppressWarnings("unchecked")
    public ConfigMap section(String k) {
        Object v = raw(k);
        if (v == null) return new ConfigMap(key(k), new LinkedHashMap<>());
        if (!(v instanceof Map)) throw wrong(k, "a mapping", v);
        return new ConfigMap(key(k), (Map<String, Object>) v);
    }

    public int getInt(String k, int def) {
        Object v = raw(k);
        if (v == null) return def;
        if (v instanceof Integer i) return i;
        if (v instanceof Long l && l == l.intValue()) return l.intValue();
        throw wrong(k, "an integer", v);
    }

    public long getLong(String k, long def) {
        Object v = raw(k);
        if (v == null) return def;
        if (v instanceof Integer i) return i;
        if (v instanceof Long l) return l;
        throw wrong(k, "an integer", v);
    }

    /** A finite number (NaN and infinities, e.g. YAML {@code .inf} or {@code 1e999}, are rejected). */
    public double getDouble(String k, double def) {
        Object v = raw(k);
        if (v == null) return def;
        double d;
        if (v instanceof Number n) {
            d = n.doubleValue();
        } else if (v instanceof String s) {
            try {
                d = Double.parseDouble(s.trim()); // YAML 1.1 reads "1e-3" as text
            } catch (NumberFormatException e) {
                throw wrong(k, "a number", v);
            }
        } else {
            throw wrong(k, "a number", v);
        }
        if (!Double.isFinite(d)) throw wrong(k, "a finite number", v);
        return d;
    }

    public boolean getBoolean(String k, boolean def) {
        Object v = raw(k);
        if (v == null) return def;
        if (v instanceof Boolean b) return b;
        throw wrong(k, "true or false", v);
    }

    public String getString(String k, String def) {
        Object v = raw(k);
        if (v == null) return def;
        if (v instanceof String s) return s;
        if (v instanceof Number || v instanceof Boolean) return v.toString();
        throw wrong(k, "text", v);
    }

    /** A string that must be one of {@code allowed}. */
    public String getChoice(String k, String def, String... allowed) {
        String s = getString(k, def);
        for (String a : allowed) if (a.equals(s)) return s;
        throw new IllegalArgumentException("config key " + key(k) + ": expected one of " + String.join(", ", allowed)
                + ", got \"" + s + "\"");
    }

    public List<Integer> getIntList(String k, List<Integer> def) {
        return list(k, def, "a list of integers", o -> o instanceof Integer i ? i : null);
    }

    /** A list of numbers ({@code [0.9, 1.0, 1.1]}); a single number is a list of one. */
    public List<Double> getDoubleList(String k, List<Double> def) {
        return list(k, def, "a list of finite numbers",
                o -> o instanceof Number n && Double.isFinite(n.doubleValue()) ? n.doubleValue() : null);
    }

    /** A list whose elements {@code element} converts (null: not allowed); a single value is a list of one. */
    private <T> List<T> list(String k, List<T> def, String expected, java.util.function.Function<Object, T> element) {
        Object v = raw(k);
        if (v == null) return def;
        List<?> items = v instanceof List<?> l ? l : List.of(v);
        List<T> out = new ArrayList<>();
        for (Object o : items) {
            T t = element.apply(o);
            if (t == null) throw wrong(k, expected, v);
            out.add(t);
        }
        return out;
    }

    /** Fails naming the first key that no getter asked for: a typo or a key from another version. */
    public void rejectUnknown() {
        for (String k : values.keySet()) {
            if (!read.contains(k)) {
                Set<String> known = new TreeSet<>(read);
                throw new IllegalArgumentException("config: unknown key " + key(k) + " (known keys here: " + String.join(", ", known) + ")");
            }
        }
    }

    /** The underlying values (for printing the resolved config). */
    public Map<String, Object> asMap() {
        return values;
    }
}
