package lmu.speech.features;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Reads the golden log-mel files of bench/reference/make_logmel_golden.py. */
final class Golden {
    final JsonObject header;
    final float[] input, logmel;

    Golden(String name) throws IOException {
        header = JsonParser.parseString(new String(bytes(name + ".json"))).getAsJsonObject();
        input = floats(bytes(name + ".input.f32"));
        logmel = floats(bytes(name + ".logmel.f32"));
    }

    private static byte[] bytes(String file) throws IOException {
        try (InputStream in = Golden.class.getResourceAsStream("/golden/features/" + file)) {
            if (in == null) throw new IOException("missing golden file " + file);
            return in.readAllBytes();
        }
    }

    static float[] floats(byte[] b) {
        float[] f = new float[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }
}
