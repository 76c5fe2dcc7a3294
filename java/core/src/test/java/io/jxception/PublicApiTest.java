package io.jxception;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.DocumentationTool;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The library's public API (DESIGN.md, "Public API"): the types in the packages below, each
 * documented with its thread-safety; everything else lives in io.jxception.internal.* and no public
 * signature shows an internal type.
 */
class PublicApiTest {
    static final Path SOURCES = Path.of("java/core/src/main/java");
    static final List<String> PUBLIC_PACKAGES = List.of("io.jxception.backend", "io.jxception.exec", "io.jxception.image",
            "io.jxception.model", "io.jxception.tensor", "io.jxception.train", "io.jxception.weights", "io.jxception.distributed");
    /** "Fits on one page": the README's API table. */
    static final int MAX_PUBLIC_TYPES = 45;

    @Test
    void everyPublicMemberHasADocCommentAndTheJavadocHasNoErrors(@TempDir Path out) throws IOException {
        DocumentationTool javadoc = ToolProvider.getSystemDocumentationTool();
        assertNotNull(javadoc, "no javadoc tool in this Java runtime (a JDK is needed to run the tests)");
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        try (StandardJavaFileManager files = javadoc.getStandardFileManager(diagnostics, Locale.ROOT, StandardCharsets.UTF_8)) {
            List<String> options = List.of("-Xdoclint:all", "-quiet", "-Xmaxwarns", "100000", "-d", out.toString(),
                    "-classpath", System.getProperty("java.class.path"), "-sourcepath", SOURCES.toString());
            boolean ok = javadoc.getTask(null, files, diagnostics, null, options, files.getJavaFileObjectsFromPaths(publicSources())).call();
            List<String> problems = new ArrayList<>();
            for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
                String message = d.getMessage(Locale.ROOT);
                // missing @param/@return tags are allowed where the sentence says it all; a missing comment is not
                boolean missingTag = message.startsWith("no @");
                if (d.getKind() == Diagnostic.Kind.ERROR || (d.getKind() == Diagnostic.Kind.WARNING && !missingTag)) {
                    problems.add((d.getSource() == null ? "" : Path.of(d.getSource().toUri()).getFileName() + ":" + d.getLineNumber() + ": ") + message);
                }
            }
            assertTrue(problems.isEmpty(), problems.size() + " javadoc problems in the public API:\n" + String.join("\n", problems));
            assertTrue(ok, "javadoc failed");
        }
    }

    @Test
    void everyPublicTypeStatesItsThreadSafetyAndTheApiFitsOnAPage() throws IOException {
        Pattern typeComment = Pattern.compile("/\\*\\*((?:(?!\\*/).)*)\\*/\\s*(?:@\\w+(?:\\([^)]*\\))?\\s*)*public\\s+(?:final\\s+|abstract\\s+|sealed\\s+)*(?:class|record|enum|interface)\\s+(\\w+)", Pattern.DOTALL);
        Pattern threadSafety = Pattern.compile("thread|immutable|stateless", Pattern.CASE_INSENSITIVE);
        List<String> types = new ArrayList<>(), silent = new ArrayList<>();
        for (Path f : publicSources()) {
            if (f.getFileName().toString().equals("package-info.java")) continue;
            String text = Files.readString(f);
            Matcher m = typeComment.matcher(text);
            String name = f.getFileName().toString().replace(".java", "");
            if (!Pattern.compile("public\\s+(?:final\\s+|abstract\\s+|sealed\\s+)*(?:class|record|enum|interface)\\s+" + name + "\\b").matcher(text).find()) continue; // package-private
            if (!m.find() || !m.group(2).equals(name)) {
                silent.add(name + " (no class comment)");
                continue;
            }
            types.add(name);
            if (!threadSafety.matcher(m.group(1)).find()) silent.add(name);
        }
        assertTrue(silent.isEmpty(), "public types whose comment does not say whether they are thread-safe: " + silent);
        assertTrue(types.size() >= 25 && types.size() <= MAX_PUBLIC_TYPES, types.size() + " public types: " + types);
    }

    @Test
    void noPublicSignatureShowsAnInternalType() throws Exception {
        List<String> leaks = new ArrayList<>();
        for (Path f : publicSources()) {
            String file = f.getFileName().toString();
            if (file.equals("package-info.java")) continue;
            String pkg = SOURCES.relativize(f.getParent()).toString().replace('/', '.');
            check(Class.forName(pkg + "." + file.replace(".java", "")), leaks);
        }
        assertTrue(leaks.isEmpty(), "public members with internal types:\n" + String.join("\n", leaks));
    }

    private static void check(Class<?> type, List<String> leaks) {
        if (!Modifier.isPublic(type.getModifiers())) return;
        String head = type.toGenericString() + " " + type.getGenericSuperclass() + " " + List.of(type.getGenericInterfaces());
        if (head.contains(".internal.")) leaks.add(head);
        for (Method m : type.getDeclaredMethods()) {
            if ((Modifier.isPublic(m.getModifiers()) || Modifier.isProtected(m.getModifiers())) && m.toGenericString().contains(".internal.")) leaks.add(m.toGenericString());
        }
        for (Constructor<?> c : type.getDeclaredConstructors()) {
            if ((Modifier.isPublic(c.getModifiers()) || Modifier.isProtected(c.getModifiers())) && c.toGenericString().contains(".internal.")) leaks.add(c.toGenericString());
        }
        for (Field fd : type.getDeclaredFields()) {
            if ((Modifier.isPublic(fd.getModifiers()) || Modifier.isProtected(fd.getModifiers())) && fd.toGenericString().contains(".internal.")) leaks.add(fd.toGenericString());
        }
        for (Class<?> nested : type.getDeclaredClasses()) check(nested, leaks);
    }

    static List<Path> publicSources() throws IOException {
        List<Path> out = new ArrayList<>();
        for (String pkg : PUBLIC_PACKAGES) {
            try (Stream<Path> s = Files.list(SOURCES.resolve(pkg.replace('.', '/')))) {
                s.filter(p -> p.toString().endsWith(".java")).sorted().forEach(out::add);
            }
        }
        return out;
    }
}
