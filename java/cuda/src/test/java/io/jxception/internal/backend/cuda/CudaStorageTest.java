package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.Epilogue;
import io.jxception.backend.Precision;
import io.jxception.model.ConvKind;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What the bytes of a buffer hold at bf16, as the suite's peak probes count them (bench.PeakMeter):
 * a host upload stays fp32 and addInPlace keeps its destination's storage (so the bandwidth probe
 * moves 4 bytes per element); a conv writes 16-bit activations (so the compute probe's timed
 * launches, which read a conv's output, convert nothing).
 */
@Tag("gpu")
class CudaStorageTest {
    @BeforeAll
    static void requireDevice() { CudaTestDevice.assumeAvailable(); }

    @Test
    void uploadsStayFp32AndConvOutputsAreBf16AtBf16() {
        try (CudaBackend b = (CudaBackend) new CudaBackendProvider().open(0, Precision.BF16)) {
            int c = 64, side = 8;
            ConvSpec spec = new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 1, side, side, c, c, 1, true);
            float[] x = new float[(int) spec.inputElements()], dw = new float[9 * c], pw = new float[c * c], one = new float[c];
            java.util.Random rnd = new java.util.Random(3);
            for (int i = 0; i < x.length; i++) x[i] = rnd.nextFloat() - 0.5f;
            for (int i = 0; i < dw.length; i++) dw[i] = rnd.nextFloat() - 0.5f;
            for (int i = 0; i < pw.length; i++) pw[i] = rnd.nextFloat() - 0.5f;
            java.util.Arrays.fill(one, 1f);
            try (Buffer dst = b.allocate(x.length); Buffer src = b.allocate(x.length); Buffer y = b.allocate(x.length);
                 Buffer dwb = b.allocate(dw.length); Buffer pwb = b.allocate(pw.length); Buffer scale = b.allocate(c); Buffer shift = b.allocate(c)) {
                b.upload(x, dst);
                b.upload(x, src);
                b.addInPlace(dst, src, x.length);
                b.synchronize();
                assertEquals(CudaBuffer.Storage.F32, ((CudaBuffer) dst).storage(), "addInPlace on uploads runs add_in_place_f32");
                b.upload(dw, dwb);
                b.upload(pw, pwb);
                b.upload(one, scale);
                b.upload(new float[c], shift);
                b.conv(spec, src, dwb, pwb, new Epilogue(scale, shift, null, false), y);
                b.synchronize();
                assertEquals(CudaBuffer.Storage.BF16, ((CudaBuffer) y).storage(), "a conv writes bf16 activations");
            }
        }
    }
}
