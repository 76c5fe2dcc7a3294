package io.jxception.bench.jmh;

import io.jxception.internal.exec.ForwardSession;
import io.jxception.internal.backend.KernelBackend;
import io.jxception.backend.Backends;
import io.jxception.backend.Precision;
import io.jxception.bench.BenchSuite;
import io.jxception.bench.Kernel;
import io.jxception.bench.LaunchCost;
import io.jxception.model.Node;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * One fused kernel launch of the ImageNet Xception, alone, on each backend: the launch the suite
 * times inside a forward pass ({@code jxception bench --per-layer}), here under JMH's harness.
 * Primary result: launches per second (each includes {@link KernelBackend#synchronize}). Secondary
 * results ({@link Counted}): the launch's counted FLOPs and minimum bytes per second, i.e.
 * achieved FLOP/s and bytes/s, from the same {@link LaunchCost} as the suite's CSV.
 *
 * <p>The default launches cover every kernel: the stem conv_bn_relu, sepconv_bn in each flow
 * (block5_sepconv3 with its residual add), the conv1x1s2_bn residuals, maxpool_add and the head.
 * The setup runs the forward up to the launch, so that its inputs hold real activations.
 *
 * <pre>
 * mvn -o -Pbench -DskipTests verify                                   # all launches, cpu and opencl, 299x299
 * mvn -o -Pbench -DskipTests verify -Djmh.args="KernelBenchmark -p backend=opencl -p batch=8 -p launch=block5_sepconv1"
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class KernelBenchmark {
    @Param({"cpu", "opencl"})
    public String backend;

    @Param({"fp32"})
    public String precision;

    @Param({"299"})
    public int size;

    @Param({"1"})
    public int batch;

    @Param({"block1_conv1", "block1_conv2", "block2_sepconv1", "conv2d", "block2_pool", "block4_sepconv2", "block5_sepconv3",
            "block13_pool", "conv2d_3", "block14_sepconv2", "predictions"})
    public String launch;

    private KernelBackend device;
    private ForwardSession session;
    private Runnable run;
    private LaunchCost cost;

    @Setup(Level.Trial)
    public void setUp() {
        XceptionGraph graph = BenchSuite.graph(size);
        int index = -1;
        for (int i = 0; i < graph.nodes().size(); i++) if (graph.nodes().get(i).name().equals(launch)) index = i;
        if (index < 0) throw new IllegalArgumentException("no launch named " + launch + " in Xception at " + size + "x" + size);
        device = KernelBackend.open(backend, Precision.parse(precision));
        session = new ForwardSession(device, XceptionWeights.random(graph, 1), batch);
        Tensor input = Tensor.zeros(session.inputShape(batch));
        Random rnd = new Random(1);
        for (int i = 0; i < input.size(); i++) input.data()[i] = rnd.nextFloat() * 2 - 1;
        session.run(input); // checks the network end to end on this backend
        // the forward again, up to this launch: its inputs hold real activations (later launches would reuse their slots)
        int target = index;
        session.upload(input);
        session.enqueueForward(batch, (i, node, launch) -> { if (i <= target) launch.run(); });
        Node node = graph.nodes().get(index);
        run = session.launch(index, batch);
        cost = LaunchCost.of(graph, node, batch, device.precision());
        System.out.printf(Locale.ROOT, "%n%s (%s) on %s: %d FLOP, %d minimum bytes per launch (%.2f FLOP/B)%n",
                launch, Kernel.of(node).kernelName(), device.description(), cost.flops(), cost.bytes(), cost.intensity());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        session.close();
        device.close();
    }

    /** FLOPs and minimum bytes of the launches run, reported by JMH as rates (FLOP/s, bytes/s). */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Counted {
        public long flop;
        public long bytes;

        @Setup(Level.Iteration)
        public void reset() {
            flop = 0;
            bytes = 0;
        }
    }

    @Benchmark
    public void launch(Counted counted) {
        run.run();
        device.synchronize();
        counted.flop += cost.flops();
        counted.bytes += cost.bytes();
    }
}
