import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.weights.WeightsFiles;
import io.jxception.weights.XceptionWeights;

import java.nio.file.Path;

/**
 * Writes random weights of Keras' full ImageNet Xception (22,910,480 parameters, 1000 classes, with
 * the top) as jxception safetensors, for benchmarks/spark/standalone.sh where the real Keras file is
 * not at hand: the work per image is the real network's, the classes mean nothing.
 *
 *   java -cp "java/cli/target/lib/*" benchmarks/spark/RandomWeights.java OUT.safetensors [SEED]
 */
public final class RandomWeights {
    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: RandomWeights OUT.safetensors [SEED]");
            System.exit(2);
        }
        long seed = args.length > 1 ? Long.parseLong(args[1]) : 1;
        XceptionGraph graph = XceptionGraph.build(XceptionConfig.imagenet());
        WeightsFiles.save(Path.of(args[0]), XceptionWeights.random(graph, seed));
        System.out.println(args[0] + ": " + graph.parameterCount() + " random parameters (seed " + seed + ")");
    }
}
