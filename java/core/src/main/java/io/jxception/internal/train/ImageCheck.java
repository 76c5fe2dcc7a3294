package io.jxception.internal.train;

import io.jxception.internal.image.ImageFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Decodes every image of a training set before the first step, so that a corrupt or truncated file
 * is found in minutes, not when the loader reaches it hours in. Images are decoded (fully, as the
 * loader will) on {@code threads} background threads; progress is reported on the calling thread.
 */
public final class ImageCheck {
    /** An image that does not decode, with the decoder's reason (which starts with the file name). */
    public record Bad(ImageFolder.Example example, String reason) {}

    /** Hears how many of the images have been checked; called on the thread that called {@link #run}. */
    public interface Progress {
        void checked(int done, int total);
    }

    private ImageCheck() {}

    /** The images of {@code examples} that do not decode, in the examples' order. */
    public static List<Bad> run(List<ImageFolder.Example> examples, int threads, Progress progress) {
        int total = examples.size();
        List<Bad> bad = new ArrayList<>();
        if (total == 0) return bad;
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(threads, total)), r -> {
            Thread t = new Thread(r, "jxception-image-check");
            t.setDaemon(true);
            return t;
        });
        try {
            ExecutorCompletionService<Bad> done = new ExecutorCompletionService<>(pool);
            Bad[] byIndex = new Bad[total];
            for (int k = 0; k < total; k++) {
                int index = k;
                done.submit(() -> byIndex[index] = check(examples.get(index)));
            }
            int reportEvery = Math.max(1, total / 200), next = reportEvery;
            for (int i = 1; i <= total; i++) {
                done.take().get(); // the result is in byIndex (published by the future's completion)
                if (i >= next || i == total) {
                    progress.checked(i, total);
                    next = i + reportEvery;
                }
            }
            for (Bad b : byIndex) if (b != null) bad.add(b);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking the training images", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("checking the training images failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
        return bad;
    }

    private static Bad check(ImageFolder.Example e) {
        Path file = e.file();
        try {
            ImageFiles.read(file);
            return null;
        } catch (IOException | RuntimeException ex) {
            return new Bad(e, ex.getMessage() == null ? file + ": " + ex.getClass().getSimpleName() : ex.getMessage());
        } catch (OutOfMemoryError ex) {
            return new Bad(e, file + ": too large to decode in this Java heap (" + ex.getMessage() + ")");
        }
    }
}
