package io.jxception.internal.tensor;

/** The element types jxception reads from and writes to {@code .npy} files, with numpy's descr strings. */
public enum NpyDtype {
    /** IEEE binary16, little-endian ('<f2'). */
    F16("<f2", 2, "float16"),
    /** IEEE binary32, little-endian ('<f4'). */
    F32("<f4", 4, "float32"),
    /** IEEE binary64, little-endian ('<f8'). */
    F64("<f8", 8, "float64"),
    /** unsigned byte ('|u1'): raw 0..255 pixels. */
    U8("|u1", 1, "uint8");

    /** What numpy writes in the header's 'descr'. */
    public final String descr;
    /** Bytes per value. */
    public final int bytes;
    /** numpy's name for it. */
    public final String numpyName;

    NpyDtype(String descr, int bytes, String numpyName) {
        this.descr = descr;
        this.bytes = bytes;
        this.numpyName = numpyName;
    }

    /** Whether values are floating point (checked for NaN/Inf on read). */
    public boolean isFloat() { return this != U8; }

    /**
     * The type of a header's 'descr' ('<f4', '=f4', 'f4', '|u1', 'u1', 'B', ...), or null when
     * jxception does not read it (other types, and big-endian floats). '=' and no order character
     * mean the writer's native order; numpy writes '<' on every little-endian machine, so such a
     * file is read as little-endian. Case matters, as in numpy: 'B' is uint8, 'b' int8.
     */
    static NpyDtype parse(String descr) {
        String d = descr.trim();
        char order = d.isEmpty() ? ' ' : d.charAt(0);
        boolean hasOrder = order == '<' || order == '=' || order == '|' || order == '>';
        String rest = hasOrder ? d.substring(1) : d;
        if (rest.equals("u1") || rest.equals("B")) return U8;   // one byte: every order character means the same
        if (order == '|' || order == '>') return null;          // '|' is only for one-byte types; '>' is big-endian
        return switch (rest) {
            case "f2", "e" -> F16;
            case "f4", "f" -> F32;
            case "f8", "d" -> F64;
            default -> null;
        };
    }
}
