package io.jxception.internal.exec;

import io.jxception.internal.backend.BatchNormSpec;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.HeadSpec;
import io.jxception.internal.backend.PoolSpec;
import io.jxception.model.Node;
import io.jxception.model.Value;
import io.jxception.model.XceptionGraph;

/** Turns graph nodes plus a batch size into the launch geometry records the backends take (the executors and the benchmarks' cost model share it). */
public final class NodeSpecs {
    private NodeSpecs() {}

    public static ConvSpec conv(XceptionGraph g, Node.Conv c, int batch) {
        Value x = g.values().get(c.input());
        return new ConvSpec(c.kind(), batch, x.h(), x.w(), c.cin(), c.cout(), c.stride(), c.preRelu());
    }

    public static BatchNormSpec batchNorm(XceptionGraph g, Node.Conv c, int batch) {
        Value y = g.values().get(c.output());
        return new BatchNormSpec((long) batch * y.h() * y.w(), c.cout(), BatchNormSpec.KERAS_EPSILON,
                BatchNormSpec.KERAS_MOMENTUM, c.postRelu(), c.residual() >= 0);
    }

    public static PoolSpec pool(XceptionGraph g, Node.MaxPoolAdd p, int batch) {
        Value x = g.values().get(p.input());
        return new PoolSpec(batch, x.h(), x.w(), x.c());
    }

    public static HeadSpec head(XceptionGraph g, Node.Head h, int batch) {
        Value x = g.values().get(h.input());
        return new HeadSpec(batch, x.h(), x.w(), h.channels(), h.pooling(), h.dense(), h.classes());
    }
}
