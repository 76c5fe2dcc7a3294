package io.jxception.internal.backend.opencl;

import io.jxception.internal.backend.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceLock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-kernel launch timing is a backend's own: two backends profiled at once keep separate
 * totals (it was one JVM-wide table, so backends on other threads mixed into a benchmark's report),
 * and a backend opened without the property has none.
 */
@ResourceLock("jxception.opencl.profile")
class LaunchProfileTest {
    @Test
    void eachBackendKeepsItsOwnTotals() {
        OpenClTestSupport.requirePlatform();
        String before = System.getProperty(LaunchProfile.PROPERTY);
        System.setProperty(LaunchProfile.PROPERTY, "true");
        try (OpenClBackend a = OpenClTestSupport.open(); OpenClBackend b = OpenClTestSupport.open()) {
            System.clearProperty(LaunchProfile.PROPERTY);
            try (OpenClBackend off = OpenClTestSupport.open()) {
                assertNull(off.launchProfile(), "opened without the property: no profile, launches do not wait");
            }
            Buffer x = a.allocate(1000), y = a.allocate(1000);
            a.upload(new float[1000], x);
            a.upload(new float[1000], y);
            a.addInPlace(x, y, 1000);
            a.addInPlace(x, y, 1000);
            String reportA = a.launchProfile().report();
            assertTrue(reportA.contains("add_inplace") && reportA.contains(" 2 launches"), reportA);
            assertEquals("", b.launchProfile().report(), "b launched nothing");
            assertEquals("", a.launchProfile().report(), "report() clears the totals");
            x.close();
            y.close();
        } finally {
            if (before == null) System.clearProperty(LaunchProfile.PROPERTY);
            else System.setProperty(LaunchProfile.PROPERTY, before);
        }
    }
}
