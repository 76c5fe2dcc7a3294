package io.jxception.distributed;

import io.jxception.internal.distributed.MpiAbi;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The factory's choices and errors that need no MPI library (the ones that do are in {@link CommunicatorUnderMpirunTest}). */
class CommunicatorsTest {
    @Test
    void severalProcessesWithoutALoadableLibraryIsAnErrorThatSaysWhatToDo() {
        Map<String, String> env = Map.of("OMPI_COMM_WORLD_RANK", "1", "OMPI_COMM_WORLD_SIZE", "4");
        CommunicatorException e = assertThrows(CommunicatorException.class,
                () -> Communicators.open(env, MpiOptions.defaults().withLibrary("/nonexistent/libmpi.so.40")));
        String m = e.getMessage();
        assertTrue(m.startsWith("the launcher started this process as rank 1 of 4 (OMPI_COMM_WORLD_RANK=1, OMPI_COMM_WORLD_SIZE=4)"
                + " but no MPI library could be loaded: /nonexistent/libmpi.so.40: "), m);
        assertTrue(m.contains("cannot open shared object file"), "the loader's reason: " + m);
        assertTrue(m.contains("apt-get install openmpi-bin") && m.contains("JXCEPTION_MPI_LIBRARY"), m);
        assertFalse(m.contains("resource path"), "JNA's class path search is noise here: " + m);
    }

    @Test
    void theLibraryVariableNamesTheLibrary() {
        CommunicatorException e = assertThrows(CommunicatorException.class,
                () -> Communicators.open(Map.of("PMI_RANK", "0", "PMI_SIZE", "2", "JXCEPTION_MPI_LIBRARY", "libnot-an-mpi.so"), MpiOptions.defaults()));
        assertTrue(e.getMessage().contains("libnot-an-mpi.so: "), e.getMessage());
    }

    @Test
    void aLibraryThatIsNotMpiIsRefused() {
        // libc loads but has no MPI_Get_library_version
        CommunicatorException e = assertThrows(CommunicatorException.class,
                () -> Communicators.mpi(Map.of(), MpiOptions.defaults().withLibrary("libc.so.6")));
        assertTrue(e.getMessage().contains("libc.so.6: loads but has no MPI_Get_library_version"), e.getMessage());
    }

    @Test
    void librariesAreTriedByTheLauncherThatStartedTheProcess() {
        MpiOptions d = MpiOptions.defaults();
        assertEquals(List.of("libmpi.so.40", "libmpi.so"), Communicators.libraryCandidates(Map.of("OMPI_COMM_WORLD_SIZE", "2"), d));
        assertEquals(List.of("libmpi.so.12", "libmpich.so.12", "libmpi.so"), Communicators.libraryCandidates(Map.of("PMI_SIZE", "2"), d));
        assertEquals(List.of("libmpi.so", "libmpi.so.40", "libmpi.so.12", "libmpich.so.12"), Communicators.libraryCandidates(Map.of("SLURM_STEP_NUM_TASKS", "2"), d));
        assertEquals(List.of("/opt/mpi/lib/libmpi.so"), Communicators.libraryCandidates(Map.of("OMPI_COMM_WORLD_SIZE", "2", "JXCEPTION_MPI_LIBRARY", "/opt/mpi/lib/libmpi.so"), d));
        assertEquals(List.of("mine.so"), Communicators.libraryCandidates(Map.of("JXCEPTION_MPI_LIBRARY", "/opt/mpi/lib/libmpi.so"), d.withLibrary("mine.so")), "options first");
    }

    @Test
    void theAbiComesFromTheLibraryVersion() {
        assertEquals(MpiAbi.OPEN_MPI, MpiAbi.fromVersion("Open MPI v4.1.4, package: Debian OpenMPI, ident: 4.1.4, repo rev: v4.1.4, May 26, 2022"));
        assertEquals(MpiAbi.MPICH, MpiAbi.fromVersion("MPICH Version:\t4.0.2\nMPICH Release date:\tThu Apr  7 12:34:45 CDT 2022"));
        assertEquals(MpiAbi.MPICH, MpiAbi.fromVersion("Intel(R) MPI Library 2021.10 for Linux* OS"));
        assertEquals(MpiAbi.MPICH, MpiAbi.fromVersion("MVAPICH2 Version      :\t2.3.7"));
        assertNull(MpiAbi.fromVersion("Spectrum MPI 10.4"));
    }

    @Test
    void optionsRefuseABlankLibraryName() {
        assertThrows(IllegalArgumentException.class, () -> MpiOptions.defaults().withLibrary(" "));
        assertThrows(NullPointerException.class, () -> MpiOptions.defaults().withThreadLevel(null));
    }

    @Test
    void threadLevelsAreMpisNumbers() {
        assertEquals(0, ThreadLevel.SINGLE.mpiValue());
        assertEquals(3, ThreadLevel.MULTIPLE.mpiValue());
        assertEquals(ThreadLevel.SERIALIZED, ThreadLevel.ofMpiValue(2));
        assertThrows(IllegalArgumentException.class, () -> ThreadLevel.ofMpiValue(4));
        assertFalse(ThreadLevel.FUNNELED.allowsAnyThread());
        assertTrue(ThreadLevel.SERIALIZED.allowsAnyThread());
    }
}
