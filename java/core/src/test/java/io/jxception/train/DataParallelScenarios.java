package io.jxception.train;

import io.jxception.distributed.Communicator;
import io.jxception.distributed.Communicators;
import io.jxception.internal.backend.cpu.CpuBackend;
import io.jxception.tensor.Tensor;
import io.jxception.weights.WeightsFiles;
import io.jxception.weights.XceptionWeights;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * The program that {@link DataParallelUnderMpirunTest} starts on every rank with mpirun: one or
 * more trainings of {@link Runs#small} on the cpu reference (one thread per rank), each given as
 * {@code key=value} settings, runs separated by {@code --}:
 * <pre>
 *   out=DIR batch=B steps=S [sync=true] [every=C] [epochs=E] [resume=true] [bucket=BYTES] [overlap=false]
 *       [die-after=K] [stop-after=K] [save=FILE]
 * </pre>
 * {@code die-after=K}: rank 1 kills itself with SIGKILL after its K-th step; {@code stop-after=K}:
 * rank 1 asks its trainer to stop after its K-th step (what the CLI's SIGUSR1 handler does);
 * {@code save}: rank 0 saves the final weights. Every rank prints {@code R <rank> <key> <value>}
 * lines: the running mean loss after each step, the steps done, a CRC of the final weights'
 * bits (the test checks that the ranks agree), the per-process times. On a failure a rank prints
 * {@code R <rank> ERROR <message>} and aborts the job.
 */
public final class DataParallelScenarios {
    private static int rank = -1;

    public static void main(String[] args) throws Exception {
        List<Map<String, String>> runs = new ArrayList<>();
        Map<String, String> current = new HashMap<>();
        for (String a : args) {
            if (a.equals("--")) {
                runs.add(current);
                current = new HashMap<>();
            } else {
                int eq = a.indexOf('=');
                current.put(a.substring(0, eq), a.substring(eq + 1));
            }
        }
        runs.add(current);
        try (Communicator comm = Communicators.fromEnvironment()) {
            rank = comm.rank();
            int index = 0;
            for (Map<String, String> run : runs) {
                try {
                    train(comm, index++, run);
                } catch (Exception e) {
                    print("ERROR", e.getMessage());
                    System.out.flush();
                    comm.abortJob(1);
                    return;
                }
            }
        }
        System.out.flush();
        System.exit(0);
    }

    private static void print(String key, Object value) {
        System.out.println("R " + rank + " " + key + " " + value);
        System.out.flush();
    }

    private static void train(Communicator comm, int index, Map<String, String> run) throws Exception {
        Path out = Path.of(run.get("out"));
        TrainOptions options = Runs.small(out)
                .batchSize(Integer.parseInt(run.get("batch")))
                .maxSteps(Long.parseLong(run.get("steps")))
                .epochs(Integer.parseInt(run.getOrDefault("epochs", "2")))
                .checkpointEvery(Integer.parseInt(run.getOrDefault("every", "0")))
                .syncBatchNorm(Boolean.parseBoolean(run.getOrDefault("sync", "false")))
                .resume(Boolean.parseBoolean(run.getOrDefault("resume", "false")))
                .gradientBucketBytes(Long.parseLong(run.getOrDefault("bucket", Long.toString(TrainOptions.DEFAULT_BUCKET_BYTES))))
                .overlapGradientExchange(Boolean.parseBoolean(run.getOrDefault("overlap", "true")))
                .build();
        int dieAfter = Integer.parseInt(run.getOrDefault("die-after", "0"));
        int stopAfter = Integer.parseInt(run.getOrDefault("stop-after", "0"));
        try (CpuBackend backend = new CpuBackend(1)) {
            Trainer trainer = new Trainer(backend, options).communicator(comm);
            int[] steps = {0};
            trainer.listener(new TrainingListener() {
                @Override public void message(String line) { print("message" + index, line); }

                @Override public void stepDone(int batchesDone, double meanLoss, double accuracy, double imagesPerSecond) {
                    steps[0]++;
                    print("loss" + index, String.format(Locale.ROOT, "%d %s", steps[0], Double.toString(meanLoss)));
                    if (rank == 1 && steps[0] == dieAfter) {
                        print("dying", "after step " + steps[0]);
                        Mpi.kill9Self();
                    }
                    if (rank == 1 && steps[0] == stopAfter) trainer.requestStop("test stop");
                }

                @Override public void epochStopped(String why) { print("stopped" + index, why); }

                @Override public void processTimes(Trainer.ProcessTimes t) {
                    print("times" + index, String.format(Locale.ROOT, "steps %d step %.3f compute %.3f exchange %.3f exposed %.3f staging %.3f bytes %d buckets %d",
                            t.steps(), t.stepSeconds(), t.computeSeconds(), t.exchangeSeconds(), t.exposedWaitSeconds(), t.stagingSeconds(),
                            t.bytesPerStep(), t.buckets()));
                }
            });
            Trainer.Result r = trainer.run();
            print("steps" + index, r.steps());
            print("complete" + index, r.complete());
            print("crc" + index, crc(r.weights()));
            if (rank == 0 && run.containsKey("save")) WeightsFiles.save(Path.of(run.get("save")), r.weights());
        }
    }

    /** CRC-32 of every weight's bits in key order. */
    static long crc(XceptionWeights w) {
        CRC32 crc = new CRC32();
        for (Map.Entry<String, Tensor> e : w.asMap().entrySet()) {
            float[] d = e.getValue().data();
            ByteBuffer b = ByteBuffer.allocate(d.length * 4);
            b.asFloatBuffer().put(d);
            crc.update(b.array());
        }
        return crc.getValue();
    }

    /** The one way this program dies like a rank whose node failed. */
    private static final class Mpi {
        static void kill9Self() {
            try {
                new ProcessBuilder("kill", "-9", Long.toString(ProcessHandle.current().pid())).start().waitFor();
            } catch (Exception e) {
                Runtime.getRuntime().halt(137);
            }
        }
    }
}
