package lmu.train;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import lmu.tensor.Shape;
import lmu.tensor.Tensor;

/**
 * The safetensors format (readable by PyTorch users with {@code safetensors.torch.load_file}): an
 * 8-byte little-endian header length, a JSON header mapping names to dtype, shape and byte offsets
 * (plus optional {@code __metadata__} strings), then the raw little-endian data.
 */
public final class SafeTensors {
    /** Headers larger than this are rejected before allocation (a forged length field). */
    private static final long MAX_HEADER = 100L << 20;

    private SafeTensors() {}

    /** A loaded file: float32 arrays with shapes, and the metadata strings. */
    public record Contents(Map<String, float[]> arrays, Map<String, int[]> shapes, Map<String, String> metadata) {}

    /** Writes float32 tensors (F64 tensors are converted) and metadata, and forces them to disk. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Map<String, float[]> arrays = new LinkedHashMap<>();
        Map<String, int[]> shapes = new LinkedHashMap<>();
        tensors.forEach((k, t) -> {
            arrays.put(k, t.storage() instanceof lmu.tensor.DeviceStorage d ? d.toHost() : t.toFloatArray()); // one copy per tensor
            shapes.put(k, t.shape());
        });
        writeArrays(file, arrays, shapes, metadata);
    }

    /** Writes float32 arrays with the given shapes. */
    public static void writeArrays(Path file, Map<String, float[]> arrays, Map<String, int[]> shapes, Map<String, String> metadata)
            throws IOException {
        JsonObject header = new JsonObject();
        if (metadata != null && !metadata.isEmpty()) {
            JsonObject meta = new JsonObject();
            metadata.forEach(meta::addProperty);
            header.add("__metadata__", meta);
        }
        long offset = 0;
        for (Map.Entry<String, float[]> e : arrays.entrySet()) {
            int[] shape = shapes.get(e.getKey());
            if (shape == null || Shape.numel(shape) != e.getValue().length) {
                throw new IllegalArgumentException("SafeTensors: shape of " + e.getKey() + " missing or not matching its "
                        + e.getValue().length + " values");
            }
            JsonObject entry = new JsonObject();
            entry.addProperty("dtype", "F32");
            entry.add("shape", new Gson().toJsonTree(shape));
            long end = offset + 4L * e.getValue().length;
            entry.add("data_offsets", new Gson().toJsonTree(new long[] {offset, end}));
            header.add(e.getKey(), entry);
            offset = end;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int pad = (8 - json.length % 8) % 8; // data starts 8-byte aligned
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE);
                OutputStream os = java.nio.channels.Channels.newOutputStream(ch)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length + pad);
            os.write(len.array());
            os.write(json);
            for (int i = 0; i < pad; i++) os.write(' ');
            ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (float[] a : arrays.values()) {
                for (float v : a) {
                    if (!buf.hasRemaining()) {
                        os.write(buf.array(), 0, buf.position());
                        buf.clear();
                    }
                    buf.putFloat(v);
                }
            }
            os.write(buf.array(), 0, buf.position());
            os.flush();
            ch.force(true);
        }
    }

    /**
     * Reads a file written by {@link #write} (or by PyTorch with F32/F64/F16/BF16 tensors, converted to float32).
     *
     * @throws CorruptFileException naming the file and what is wrong
     */
    public static Contents read(Path file) throws IOException {
        long size = Files.size(file);
        if (size < 8) throw new CorruptFileException(file, "shorter than the 8-byte header length (" + size + " bytes)");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, file);
            long n = lenBuf.flip().getLong();
            if (n <= 0 || n > MAX_HEADER || n > size - 8) {
                throw new CorruptFileException(file, "header length " + n + " impossible for a file of " + size + " bytes");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) n);
            readFully(ch, hb, file);
            JsonObject header;
            try {
                JsonElement el = JsonParser.parseString(new String(hb.array(), StandardCharsets.UTF_8).trim());
                if (!el.isJsonObject()) throw new CorruptFileException(file, "header is not a JSON object");
                header = el.getAsJsonObject();
            } catch (JsonParseException e) {
                throw new CorruptFileException(file, "header is not valid JSON (" + e.getMessage() + ")");
            }
            long dataStart = 8 + n, dataSize = size - dataStart;
            Map<String, float[]> arrays = new LinkedHashMap<>();
            Map<String, int[]> shapes = new LinkedHashMap<>();
            Map<String, String> meta = new LinkedHashMap<>();
            for (Map.Entry<String, JsonElement> e : header.entrySet()) {
                if (e.getKey().equals("__metadata__")) {
                    if (e.getValue().isJsonObject()) {
                        e.getValue().getAsJsonObject().entrySet().forEach(m -> meta.put(m.getKey(), m.getValue().getAsString()));
                    }
                    continue;
                }
                readEntry(ch, file, e.getKey(), e.getValue(), dataStart, dataSize, arrays, shapes);
            }
            return new Contents(arrays, shapes, meta);
        } catch (IllegalStateException | UnsupportedOperationException | ClassCastException | NumberFormatException e) {
            throw new CorruptFileException(file, "malformed header entry (" + e.getMessage() + ")");
        }
    }

    private static void readEntry(FileChannel ch, Path file, String name, JsonElement v, long dataStart, long dataSize,
            Map<String, float[]> arrays, Map<String, int[]> shapes) throws IOException {
        if (!v.isJsonObject()) throw new CorruptFileException(file, "entry " + name + " is not an object");
        JsonObject o = v.getAsJsonObject();
        for (String field : new String[] {"dtype", "shape", "data_offsets"}) {
            if (!o.has(field) || o.get(field).isJsonNull()) throw new CorruptFileException(file, "entry " + name + " has no " + field);
        }
        if (!o.get("shape").isJsonArray() || !o.get("data_offsets").isJsonArray() || o.getAsJsonArray("data_offsets").size() != 2) {
            throw new CorruptFileException(file, "entry " + name + " has a malformed shape or data_offsets");
        }
        String dtype = o.get("dtype").getAsString();
        int width = switch (dtype) {
            case "F32" -> 4;
            case "F64" -> 8;
            case "F16", "BF16" -> 2;
            default -> throw new CorruptFileException(file, "entry " + name + " has unsupported dtype " + dtype);
        };
        var shapeArr = o.getAsJsonArray("shape");
        int[] shape = new int[shapeArr.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            long d = shapeArr.get(i).getAsLong();
            if (d < 0 || d > Integer.MAX_VALUE) throw new CorruptFileException(file, "entry " + name + " has dimension " + d);
            shape[i] = (int) d;
            count *= d;
            if (count > Integer.MAX_VALUE) throw new CorruptFileException(file, "entry " + name + " is too large");
        }
        var offs = o.getAsJsonArray("data_offsets");
        long begin = offs.get(0).getAsLong(), end = offs.get(1).getAsLong();
        if (begin < 0 || end < begin || end > dataSize || end - begin != count * width) {
            throw new CorruptFileException(file, "entry " + name + " has data offsets [" + begin + ", " + end + ") inconsistent with "
                    + count + " " + dtype + " values and " + dataSize + " data bytes (truncated file?)");
        }
        ByteBuffer data = ByteBuffer.allocate((int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN);
        ch.position(dataStart + begin);
        readFully(ch, data, file);
        data.flip();
        float[] a = new float[(int) count];
        for (int i = 0; i < a.length; i++) {
            a[i] = switch (dtype) {
                case "F32" -> data.getFloat();
                case "F64" -> (float) data.getDouble();
                case "F16" -> lmu.tensor.HalfFloats.f16ToFloat(data.getShort());
                default -> lmu.tensor.HalfFloats.bf16ToFloat(data.getShort());
            };
        }
        arrays.put(name, a);
        shapes.put(name, shape);
    }

    private static void readFully(FileChannel ch, ByteBuffer b, Path file) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) throw new CorruptFileException(file, "ends early (truncated)");
        }
    }
}
