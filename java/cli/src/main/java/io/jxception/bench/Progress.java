package io.jxception.bench;

/** Where the suite reports how far it is: one unit per image through a forward pass, one per peak probe. */
public interface Progress {
    /** Planned units changed (the suite learns some counts only as it goes). */
    void addTotal(long units);

    /** {@code units} more are done; {@code what} says what runs now. */
    void advance(long units, String what);

    /** Drawn as {@code bar}'s line: the status is what runs now. */
    static Progress drawnBy(io.jxception.progress.ProgressBar bar) {
        return new Progress() {
            @Override public void addTotal(long units) { bar.addTotal(units); }

            @Override public void advance(long units, String what) { bar.advance(units, what); }
        };
    }

    /** Nothing shown: tests and non-interactive callers. */
    Progress NONE = new Progress() {
        @Override public void addTotal(long units) {}

        @Override public void advance(long units, String what) {}
    };
}
