package io.jxception.weights;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** The two weights file formats, told apart by their first bytes, never by the file name. Immutable. */
public enum WeightsFormat {
    /** HDF5 in the Keras 2 layout (keras.applications' .h5 files). */
    KERAS_H5,
    /** safetensors with Keras or timm legacy_xception names. */
    SAFETENSORS;

    private static final byte[] HDF5_SIGNATURE = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    /** HDF5 allows a user block before the superblock: the signature may sit at 0, 512, 1024, 2048, ... */
    private static final long MAX_USER_BLOCK = 1 << 20;

    /**
     * The format of {@code file}, told by its first bytes.
     *
     * @throws WeightsFileException when it is neither HDF5 nor safetensors, or cannot be read
     */
    public static WeightsFormat detect(Path file) throws IOException {
        if (Files.isDirectory(file)) throw new WeightsFileException(file, "is a folder, not a weights file");
        if (!Files.isRegularFile(file)) throw new WeightsFileException(file, "no such file (" + file.toAbsolutePath() + ")");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size == 0) throw new WeightsFileException(file, "is empty");
            if (size < 10) throw new WeightsFileException(file, "is only " + size + " bytes, too short for a weights file (truncated?)");
            byte[] head = read(ch, 0, 16);
            for (long at = 0; at < size && at <= MAX_USER_BLOCK; at = at == 0 ? 512 : at * 2) {
                if (startsWith(at == 0 ? head : read(ch, at, HDF5_SIGNATURE.length), HDF5_SIGNATURE)) return KERAS_H5;
            }
            if (head[8] == '{') return SAFETENSORS;
            if (head[0] == 'P' && head[1] == 'K') {
                throw new WeightsFileException(file, "is a zip archive (a Keras 3 .keras model or a PyTorch .pth?), not a weights file this"
                        + " library reads: give a Keras .h5 weights file or a safetensors file");
            }
            throw new WeightsFileException(file, "is neither HDF5 (Keras .h5) nor safetensors (first bytes: " + hex(head)
                    + "); an HTML error page from a failed download? fetch the file again");
        }
    }

    private static byte[] read(FileChannel ch, long position, int max) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(max);
        while (b.hasRemaining()) {
            int n = ch.read(b, position + b.position());
            if (n < 0) break;
        }
        byte[] out = new byte[b.position()];
        b.flip().get(out);
        return out;
    }

    private static boolean startsWith(byte[] bytes, byte[] prefix) {
        if (bytes.length < prefix.length) return false;
        for (int i = 0; i < prefix.length; i++) if (bytes[i] != prefix[i]) return false;
        return true;
    }

    private static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(8, bytes.length); i++) sb.append(i == 0 ? "" : " ").append(String.format("%02x", bytes[i] & 0xff));
        return sb.toString();
    }
}
