package io.jxception.internal.backend.opencl;

import java.util.Locale;

/**
 * The -D options that specialise a kernel source for one launch shape, e.g.
 * {@code -DH=147 -DW=147 -DCIN=64 ...}. Equal option strings share one built program.
 */
final class BuildOptions {
    private final StringBuilder sb = new StringBuilder();

    BuildOptions def(String name, long value) {
        sb.append(" -D").append(name).append('=').append(value);
        return this;
    }

    BuildOptions def(String name, boolean value) { return def(name, value ? 1 : 0); }

    /** A float constant, written as an exact C literal. */
    BuildOptions def(String name, double value) {
        sb.append(" -D").append(name).append('=').append(String.format(Locale.ROOT, "%.9ef", value));
        return this;
    }

    @Override
    public String toString() { return sb.toString().trim(); }
}
