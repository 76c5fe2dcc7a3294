package io.jxception.internal.weights;

import io.jxception.weights.WeightsFileException;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

/**
 * An open safetensors file: {@code u64 LE header size N | N bytes of JSON header | data}. Opening
 * validates the whole layout ({@link SafetensorsHeader}) before any data is read, so a corrupt size
 * can never make it allocate more than the file holds.
 */
public final class SafetensorsFile implements Closeable {
    private final Path file;
    private final FileChannel channel;
    private final long dataStart;
    private final SafetensorsHeader header;

    private SafetensorsFile(Path file, FileChannel channel, long dataStart, SafetensorsHeader header) {
        this.file = file;
        this.channel = channel;
        this.dataStart = dataStart;
        this.header = header;
    }

    public static SafetensorsFile open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new WeightsFileException(file, "no such file (" + file.toAbsolutePath() + ")");
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            long size = ch.size();
            if (size < 8) throw new WeightsFileException(file, "is " + size + " bytes, too short for a safetensors file (truncated?)");
            ByteBuffer n = readFully(file, ch, 0, 8).order(ByteOrder.LITTLE_ENDIAN);
            long headerBytes = n.getLong(0);
            if (headerBytes < 0 || headerBytes > SafetensorsHeader.MAX_HEADER_BYTES) {
                throw new WeightsFileException(file, "safetensors header size " + Long.toUnsignedString(headerBytes) + " exceeds the limit of "
                        + SafetensorsHeader.MAX_HEADER_BYTES + " bytes: not a safetensors file, or a corrupt one");
            }
            if (8 + headerBytes > size) {
                throw new WeightsFileException(file, "safetensors header size " + headerBytes + " is larger than the file (" + size
                        + " bytes): the file is truncated or not a safetensors file");
            }
            byte[] header = new byte[(int) headerBytes];
            readFully(file, ch, 8, (int) headerBytes).get(header);
            SafetensorsHeader parsed = SafetensorsHeader.parse(file, header, size - 8 - headerBytes);
            return new SafetensorsFile(file, ch, 8 + headerBytes, parsed);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    public List<SafetensorsHeader.Entry> entries() { return header.entries(); }

    public Map<String, String> metadata() { return header.metadata(); }

    Path file() { return file; }

    /** The tensor's values as float32 (F32, F16, BF16, F64). */
    public float[] readFloats(SafetensorsHeader.Entry e) throws IOException {
        if (!e.dtype().isFloatingPoint()) {
            throw new WeightsFileException(file, "tensor '" + e.name() + "' is " + e.dtype() + "; weights must be F32, F16, BF16 or F64");
        }
        if (e.bytes() > Integer.MAX_VALUE - 8) {
            throw new WeightsFileException(file, "tensor '" + e.name() + "' is " + e.bytes() + " bytes, more than one Java array holds");
        }
        ByteBuffer data = readFully(file, channel, dataStart + e.begin(), (int) e.bytes());
        return e.dtype().toFloats(data, Math.toIntExact(e.shape().elements()));
    }

    private static ByteBuffer readFully(Path file, FileChannel ch, long position, int bytes) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(bytes);
        while (b.hasRemaining()) {
            int n = ch.read(b, position + b.position());
            if (n < 0) throw new WeightsFileException(file, "ended early while reading " + bytes + " bytes at offset " + position + " (truncated?)");
        }
        return b.flip();
    }

    @Override public void close() throws IOException { channel.close(); }
}
