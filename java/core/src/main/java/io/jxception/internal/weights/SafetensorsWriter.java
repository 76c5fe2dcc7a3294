package io.jxception.internal.weights;

import io.jxception.internal.json.Json;
import io.jxception.internal.tensor.AtomicFiles;
import io.jxception.tensor.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes float32 tensors as safetensors, in the given order, atomically (temporary file, fsync,
 * rename: readers see the old file or the complete new one). The header is padded with spaces to a
 * multiple of 8 bytes so that the data is aligned, as the reference implementation does.
 */
public final class SafetensorsWriter {
    private SafetensorsWriter() {}

    public static void write(Path target, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        byte[] header = header(tensors, metadata);
        AtomicFiles.write(target, channel -> {
            ByteBuffer size = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            writeAll(channel, size);
            writeAll(channel, ByteBuffer.wrap(header));
            for (Tensor t : tensors.values()) {
                ByteBuffer b = ByteBuffer.allocate(t.size() * 4).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(t.data());
                writeAll(channel, b);
            }
        });
    }

    static byte[] header(Map<String, Tensor> tensors, Map<String, String> metadata) {
        StringBuilder sb = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            sb.append(Json.quote(SafetensorsHeader.METADATA_KEY)).append(":{");
            boolean first = true;
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                sb.append(first ? "" : ",").append(Json.quote(e.getKey())).append(':').append(Json.quote(e.getValue()));
                first = false;
            }
            sb.append('}');
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            if (e.getKey().equals(SafetensorsHeader.METADATA_KEY)) throw new IllegalArgumentException("a tensor cannot be named " + e.getKey());
            Tensor t = e.getValue();
            long end = offset + 4L * t.size();
            sb.append(sb.length() == 1 ? "" : ",").append(Json.quote(e.getKey())).append(":{\"dtype\":\"F32\",\"shape\":[");
            int[] dims = t.shape().dims();
            for (int i = 0; i < dims.length; i++) sb.append(i == 0 ? "" : ",").append(dims[i]);
            sb.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        sb.append('}');
        byte[] json = sb.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        for (int i = json.length; i < padded; i++) out[i] = ' ';
        return out;
    }

    private static void writeAll(java.nio.channels.FileChannel channel, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) channel.write(b);
    }
}
