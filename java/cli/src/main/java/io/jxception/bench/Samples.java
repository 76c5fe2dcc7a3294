package io.jxception.bench;

import java.util.Arrays;

/** Repeated timings of one thing, in seconds, summarised by median (what reports use), min and max. */
public record Samples(double median, double min, double max, int count) {
    public static Samples of(double[] seconds) {
        if (seconds.length == 0) throw new IllegalArgumentException("no timing samples");
        double[] s = seconds.clone();
        Arrays.sort(s);
        int n = s.length;
        double median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        return new Samples(median, s[0], s[n - 1], n);
    }
}
