package io.jxception.internal.backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/** The backend kinds on the class path: cpu and opencl from jxception-core, cuda from jxception-cuda, others from any jar that registers a {@link BackendProvider}. */
public final class BackendProviders {
    private BackendProviders() {}

    /** The kinds jxception's own artifacts provide, in the order "jxception info" lists them; others follow by name. */
    private static final List<String> KNOWN_KINDS = List.of("cpu", "opencl", "cuda");

    /**
     * Every backend kind on the class path, found through {@link ServiceLoader} with the calling
     * thread's context class loader: cpu and opencl come with jxception-core, cuda with the
     * jxception-cuda artifact. Ordered as "jxception info" lists them.
     */
    public static List<BackendProvider> all() {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        return all(loader != null ? loader : BackendProviders.class.getClassLoader());
    }

    /** {@link #all()} as seen by {@code loader}; one provider per kind (the first found). */
    public static List<BackendProvider> all(ClassLoader loader) {
        List<BackendProvider> list = new ArrayList<>();
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class, loader)) {
            if (list.stream().noneMatch(q -> q.kind().equals(p.kind()))) list.add(p);
        }
        list.sort(Comparator.comparingInt((BackendProvider p) -> KNOWN_KINDS.contains(p.kind()) ? KNOWN_KINDS.indexOf(p.kind()) : KNOWN_KINDS.size())
                .thenComparing(BackendProvider::kind));
        return list;
    }

}
