package io.jxception.bench;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * How the torch.compile phase spends its budget. It runs after every eager row is measured, as one
 * child process per model × compile mode × precision (a {@link Job}): within a job one compiled
 * callable serves every batch size, largest first, so dynamo's and inductor's caches are shared by
 * its batches, and a job killed at its budget keeps the batches it finished. Jobs run in order:
 * precision by precision (the order CUDA ran them: bf16 first on the device), each compile mode
 * (default before max-autotune-no-cudagraphs), each model in the order asked.
 * <p>
 * A job's budget is its weighted share of what is left of the phase: {@code left × w / Σ w} over
 * the jobs not yet run, max-autotune weighing {@link #MAX_AUTOTUNE_WEIGHT} times a default compile
 * (it benchmarks kernel choices for every convolution: minutes, where default takes tens of
 * seconds). A job that finishes early leaves its time to the ones after it. A job never gets less
 * than {@link #MIN_SECONDS} while that much is left; with less left, the remaining jobs are not
 * started (the report says so).
 */
final class CompilePlan {
    private CompilePlan() {}

    /** Below this, torch.compile of Xception cannot finish one batch size: a job is not started. */
    static final long MIN_SECONDS = 20;

    static final double MAX_AUTOTUNE_WEIGHT = 2;

    /**
     * @param model     "keras" or "timm" (the peer script's --model)
     * @param mode      "compile" or "compile:max-autotune-no-cudagraphs" (its --modes)
     * @param precision fp32, tf32, bf16 or fp16
     */
    record Job(String model, String mode, String precision) {
        double weight() { return mode.equals("compile") ? 1 : MAX_AUTOTUNE_WEIGHT; }

        @Override public String toString() { return PeerRunner.describe("cuda", model, mode) + " " + precision; }
    }

    /** Every job, in the order they run. */
    static List<Job> jobs(List<String> precisions, List<String> modes, List<String> models) {
        List<Job> out = new ArrayList<>();
        for (String p : precisions) for (String mode : modes) for (String model : models) out.add(new Job(model, mode, p));
        return out;
    }

    /**
     * Seconds for the first of {@code remaining} when {@code secondsLeft} are left of the phase: its
     * weighted share, at least {@code minSeconds}, never more than is left; 0 when less than
     * {@code minSeconds} is left (not started).
     */
    static long budget(List<Job> remaining, long secondsLeft, long minSeconds) {
        if (remaining.isEmpty() || secondsLeft < minSeconds) return 0;
        double total = remaining.stream().mapToDouble(Job::weight).sum();
        long share = (long) Math.floor(secondsLeft * remaining.get(0).weight() / total);
        return Math.min(secondsLeft, Math.max(minSeconds, share));
    }

    /** What the phase measured, and what it could not (notes). */
    record Outcome(List<PeerResult> results, List<String> notes) {}

    /**
     * Runs {@code jobs} in order until {@code deadline}, each over {@code largestFirst} batch sizes,
     * killed at its {@link #budget}. A model whose script says it cannot run here (timm not
     * installed) is not tried again, and is in {@code unavailableModels} afterwards; a job killed at
     * its budget keeps the rows it finished and leaves the others their time.
     *
     * @param unavailableModels models known not to run (in, and out: the ones found now are added)
     * @param progress          receives "what runs now" lines
     */
    static Outcome run(BenchOptions.PeerOptions o, List<Job> jobs, List<Integer> largestFirst, int size, int warmup, int iterations,
                       long expectedParameters, Instant deadline, long minSeconds, Set<String> unavailableModels, Consumer<String> progress) {
        List<PeerResult> results = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        for (int i = 0; i < jobs.size(); i++) {
            Job job = jobs.get(i);
            if (unavailableModels.contains(job.model())) continue;
            List<Job> remaining = jobs.subList(i, jobs.size()).stream().filter(j -> !unavailableModels.contains(j.model())).toList();
            long left = Math.max(0, Duration.between(Instant.now(), deadline).toSeconds());
            long budget = budget(remaining, left, minSeconds);
            if (budget == 0) {
                notes.add("peer pytorch compile: " + remaining.size() + " of " + jobs.size() + " runs not started ("
                        + remaining.stream().map(Job::toString).collect(Collectors.joining("; ")) + "): " + left
                        + " s were left of the compile budget, under the " + minSeconds + " s a first compile needs");
                break;
            }
            progress.accept(job + " (at most " + budget + " s)");
            PeerRunner.Outcome r = PeerRunner.run(o, "cuda", job.model(), job.mode(), List.of(job.precision()), largestFirst, size, warmup,
                    iterations, budget, expectedParameters);
            notes.addAll(r.notes());
            if (r.unavailable()) unavailableModels.add(job.model());
            results.addAll(r.results());
        }
        return new Outcome(results, notes);
    }
}
