package io.jxception.internal.backend;

/**
 * What a convolution does to its raw output z before storing it:
 * y = relu?( z * scale[c] + shift[c] + residual ). Null scale/shift mean 1 and 0 (raw z, as the
 * training forward needs before batch statistics); null residual means none.
 * scale, shift: (cout); residual: same shape as the output (n, outH, outW, cout).
 */
public record Epilogue(Buffer scale, Buffer shift, Buffer residual, boolean relu) {
    public static final Epilogue NONE = new Epilogue(null, null, null, false);

    public Epilogue {
        if ((scale == null) != (shift == null)) throw new IllegalArgumentException("scale and shift go together");
    }
}
