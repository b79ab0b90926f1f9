package lmu.train;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import lmu.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
    @TempDir Path dir;

    @Test
    void roundTripsTensorsAndMetadata() throws Exception {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("encoder.weight", Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
        t.put("head.bias", Tensor.of(new float[] {-1.5f}, 1));
        Path f = dir.resolve("m.safetensors");
        SafeTensors.write(f, t, Map.of("vocabulary", " 'abc"));
        SafeTensors.Contents c = SafeTensors.read(f);
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, c.arrays().get("encoder.weight"));
        assertArrayEquals(new int[] {2, 3}, c.shapes().get("encoder.weight"));
        assertArrayEquals(new float[] {-1.5f}, c.arrays().get("head.bias"));
        assertEquals(" 'abc", c.metadata().get("vocabulary"));
        // the layout PyTorch's reader expects: 8-byte length, JSON, 8-aligned data
        byte[] bytes = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, (8 + n) % 8);
        String json = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(json.contains("\"encoder.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}"), json);
        assertEquals(8 + n + 28, bytes.length);
    }

    @Test
    void truncatedAndForgedFilesAreRejectedWithTheFileNamed() throws Exception {
        Path f = dir.resolve("w.safetensors");
        SafeTensors.write(f, Map.of("w", Tensor.ones(100)), Map.of());
        byte[] bytes = Files.readAllBytes(f);
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length - 10));
        CorruptFileException e = assertThrows(CorruptFileException.class, () -> SafeTensors.read(cut));
        assertTrue(e.getMessage().contains("cut.safetensors") && e.getMessage().contains("truncated"), e.getMessage());
        Path forged = dir.resolve("forged.safetensors");
        byte[] f2 = bytes.clone();
        ByteBuffer.wrap(f2, 0, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE / 2);
        Files.write(forged, f2);
        CorruptFileException e2 = assertThrows(CorruptFileException.class, () -> SafeTensors.read(forged));
        assertTrue(e2.getMessage().contains("header length"), e2.getMessage());
        Path tiny = dir.resolve("tiny.safetensors");
        Files.write(tiny, new byte[3]);
        assertThrows(CorruptFileException.class, () -> SafeTensors.read(tiny));
    }
}
