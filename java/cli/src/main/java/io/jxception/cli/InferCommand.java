package io.jxception.cli;

import io.jxception.distributed.RankInfo;
import io.jxception.internal.backend.KernelBackend;
import io.jxception.progress.ProgressBar;
import io.jxception.exec.InferenceSession;
import io.jxception.model.XceptionConfig;
import io.jxception.tensor.Npy;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;

/**
 * {@code jxception infer}: a preprocessed float32 batch (N, H, W, 3) in a .npy file → softmax
 * probabilities (N, classes), or pooled features (N, 2048·width) with {@code --features}, in a
 * .npy file. The output is written once, atomically, after every batch succeeded.
 */
@Command(name = "infer", mixinStandardHelpOptions = true,
        description = {"Run Xception on a preprocessed batch in a .npy file: float32 (N, H, W, 3) NHWC, values x/127.5 - 1, H and W at least 71.",
                "Writes softmax probabilities (N, classes), or pooled features (N, 2048*width) with --features, as float32 .npy."})
final class InferCommand extends Subcommand {
    @Mixin BackendOptions backendOptions;

    @Option(names = "--weights", required = true, paramLabel = "FILE", description = "Keras .h5 or safetensors weights.")
    Path weightsFile;

    @Option(names = "--input", required = true, paramLabel = "FILE", description = ".npy input, float32 (N, H, W, 3).")
    Path inputFile;

    @Option(names = "--output", required = true, paramLabel = "FILE", description = ".npy output; written only when everything succeeded.")
    Path outputFile;

    @Option(names = "--batch", defaultValue = "8", paramLabel = "N", description = "Images per forward pass (default 8).")
    int batch;

    @Option(names = "--features", description = "Output global-average-pooled features instead of probabilities.")
    boolean features;

    @Option(names = "--shard", paramLabel = "i/n|auto",
            description = {"Compute shard i of n (whole batches) and write OUTPUT's part NAME.shard-i-of-n.npy for 'jxception merge'; "
                    + "auto: i and n from the launcher (SLURM_PROCID, OMPI_COMM_WORLD_RANK, PMI_RANK...) without MPI.",
                    "Without it, under mpirun or srun every rank computes its share and rank 0 writes the one output."})
    String shardOption;

    @Override
    int execute() throws Exception {
        if (batch < 1) throw usage("--batch must be at least 1, got " + batch);
        Sharding sharding;
        try {
            sharding = Sharding.open(shardOption);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        try (sharding) {
            return JobFailure.abortingJob(sharding.communicator(), out(), err(), () -> infer(sharding));
        }
    }

    private int infer(Sharding sharding) throws IOException {
        if (sharding.writesOutput()) {
            // output rules and a writable folder, before any work: the part this shard writes, or the one output
            io.jxception.internal.tensor.AtomicFiles.checkTarget(sharding.writesPart() ? sharding.partFile(outputFile) : outputFile);
        }
        checkOutputFolder(outputFile);
        Tensor whole = readInput(inputFile);
        RankInfo.Share share = sharding.range(whole.shape().dim(0), batch);
        Tensor input = imagesOf(whole, share);
        Shape s = input.shape();
        XceptionWeights weights = WeightsArgument.load(weightsFile, s.dim(1), s.dim(2), features);
        int n = s.dim(0);
        Tensor output;
        try (KernelBackend backend = backendOptions.open(sharding.gathers());
             InferenceSession session = new InferenceSession(backend, weights, Math.max(1, Math.min(batch, n)))) {
            output = Tensor.zeros(session.outputShape(n));
            int perImageIn = s.dim(1) * s.dim(2) * 3, perImageOut = output.size() / n;
            // one batch shows no bar; several: a bar, redrawn on a terminal, a line per tenth in a log
            ProgressBar progress = new ProgressBar(err(), sharding.prefix().strip(), n, ProgressBar.terminalAttached(), n > batch ? 0 : Long.MAX_VALUE);
            long t0 = System.nanoTime();
            try {
                // batches are cut as they are needed: runAll stages batch i+1 while the device runs batch i
                Iterator<Tensor> slices = new Iterator<>() {
                    int start;

                    @Override public boolean hasNext() { return start < n; }

                    @Override public Tensor next() {
                        int count = Math.min(batch, n - start);
                        float[] slice = Arrays.copyOfRange(input.data(), start * perImageIn, (start + count) * perImageIn);
                        start += count;
                        return new Tensor(Shape.of(count, s.dim(1), s.dim(2), 3), slice);
                    }
                };
                session.runAll(slices, (index, y) -> {
                    System.arraycopy(y.data(), 0, output.data(), index * batch * perImageOut, y.size());
                    progress.advanceWithRate(y.shape().dim(0), "img/s");
                });
            } finally {
                progress.close();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            Path written = outputFile;
            Tensor result = output;
            if (sharding.gathers()) {
                float[] all = sharding.gather(output.data());
                int columns = output.shape().dim(1);
                if (all != null) result = new Tensor(Shape.of(all.length / columns, columns), all);
                if (!sharding.writesOutput()) {
                    out().printf(Locale.ROOT, "%simages [%d, %d) on %s in %.2f s (%.2f img/s)%n", sharding.prefix(), share.first(), share.end(),
                            backend.name(), seconds, n / seconds);
                    return 0;
                }
            } else if (sharding.writesPart()) {
                written = sharding.partFile(outputFile);
            }
            Npy.write(written, result);
            String what = features ? "pooled features" : "probabilities";
            if (sharding.gathers()) {
                out().printf(Locale.ROOT, "%swrote %s: %s %s from %d images on %d ranks; this rank: images [%d, %d) on %s in %.2f s (%.2f img/s)%n",
                        sharding.prefix(), written, result.shape(), what, result.shape().dim(0), sharding.communicator().size(), share.first(), share.end(),
                        backend.name(), seconds, n / seconds);
            } else {
                out().printf(Locale.ROOT, "wrote %s: %s %s from %d images on %s in %.2f s (%.2f img/s)%s%n", written, result.shape(), what, n, backend.name(),
                        seconds, n / seconds,
                        sharding.writesPart() ? ", " + sharding.describe() + ": images [" + share.first() + ", " + share.end() + ") of " + whole.shape().dim(0) : "");
            }
        }
        return 0;
    }

    /** Images [first, end) of a (N, H, W, 3) batch. */
    static Tensor imagesOf(Tensor batch, RankInfo.Share share) {
        Shape s = batch.shape();
        if (share.first() == 0 && share.count() == s.dim(0)) return batch;
        int perImage = s.dim(1) * s.dim(2) * s.dim(3);
        float[] d = Arrays.copyOfRange(batch.data(), Math.toIntExact(share.first() * perImage), Math.toIntExact(share.end() * perImage));
        return new Tensor(Shape.of((int) share.count(), s.dim(1), s.dim(2), s.dim(3)), d);
    }

    /** Fails before any work when the output could not be written at the end. */
    static void checkOutputFolder(Path output) throws IOException {
        Path folder = output.toAbsolutePath().getParent();
        if (folder == null || !Files.isDirectory(folder)) throw new IOException("output folder does not exist: " + folder);
        if (Files.isDirectory(output)) throw new IOException("output " + output + " is a folder; give a .npy file name");
        if (!Files.isWritable(folder)) throw new IOException("output folder is not writable: " + folder);
    }

    /** Reads and checks the input: float32/float64, (N, H, W, 3) with N ≥ 1, H, W ≥ 71, all finite. */
    static Tensor readInput(Path file) throws IOException {
        if (!Files.exists(file)) throw new IOException("input file not found: " + file);
        Tensor t = Npy.read(file);
        Shape s = t.shape();
        if (s.rank() != 4 || s.dim(3) != 3) {
            throw new IOException("input " + file + " has shape " + s + ": expected (N, H, W, 3), float32 NHWC RGB images preprocessed with x/127.5 - 1");
        }
        if (s.dim(0) < 1) throw new IOException("input " + file + " holds no images (shape " + s + ")");
        if (s.dim(1) < XceptionConfig.MIN_INPUT || s.dim(2) < XceptionConfig.MIN_INPUT) {
            throw new IOException("input " + file + " has images of " + s.dim(1) + "x" + s.dim(2) + ": Xception needs H and W of at least " + XceptionConfig.MIN_INPUT);
        }
        int bad = t.firstNonFinite();
        if (bad >= 0) {
            int c = bad % 3, x = bad / 3 % s.dim(2), y = bad / 3 / s.dim(2) % s.dim(1), n = bad / 3 / s.dim(2) / s.dim(1);
            throw new IOException("input " + file + " holds " + t.data()[bad] + " at [" + n + ", " + y + ", " + x + ", " + c + "]: every value must be finite");
        }
        return t;
    }
}
