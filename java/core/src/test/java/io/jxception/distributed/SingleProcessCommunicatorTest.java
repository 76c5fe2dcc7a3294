package io.jxception.distributed;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class SingleProcessCommunicatorTest {
    @Test
    void isRankZeroOfOneAndEveryCollectiveLeavesTheDataAsItIs() {
        try (Communicator c = Communicators.singleProcess()) {
            assertEquals(0, c.rank());
            assertEquals(1, c.size());
            assertEquals(0, c.localRank());
            assertEquals(1, c.localSize());
            assertTrue(c.isRoot());
            assertEquals(ThreadLevel.MULTIPLE, c.threadLevel());
            float[] f = {1, 2, 3};
            c.allreduceSum(f);
            assertArrayEquals(new float[]{1, 2, 3}, f);
            double[] d = {0.5, -1};
            c.allreduceSum(d, 1, 1);
            assertArrayEquals(new double[]{0.5, -1}, d);
            FloatBuffer direct = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder()).asFloatBuffer().put(4f).put(5f);
            direct.flip();
            c.allreduceSum(direct);
            assertEquals(5f, direct.get(1));
            AllreduceRequest r = c.iallreduceSum(f, 0, 3);
            assertTrue(r.isComplete());
            assertTrue(r.test());
            r.await();
            assertArrayEquals(new float[]{1, 2, 3}, f);
            c.broadcast(f, 0);
            assertArrayEquals(new float[]{1, 2, 3}, f);
            byte[] message = {7, 8};
            assertSame(message, c.broadcast(message, 0));
            float[][] g = c.gatherv(new float[]{9, 8, 7, 6}, 1, 2, 0);
            assertEquals(1, g.length);
            assertArrayEquals(new float[]{8, 7}, g[0]);
            byte[][] gb = c.gatherv(new byte[]{1, 2, 3}, 0, 0, 0);
            assertArrayEquals(new byte[0], gb[0]);
            c.barrier();
            c.abortJob(3); // returns: nothing else to end
        }
    }

    @Test
    void argumentsAreCheckedAsUnderMpi() {
        try (Communicator c = Communicators.singleProcess()) {
            assertThrows(IndexOutOfBoundsException.class, () -> c.allreduceSum(new float[3], 2, 2));
            assertThrows(IndexOutOfBoundsException.class, () -> c.iallreduceSum(new float[3], -1, 1));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.broadcast(new float[1], 1));
            assertEquals("root 1 is not a rank of this communicator (ranks 0..0)", e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> c.gatherv(new byte[1], 0, 1, -1));
            e = assertThrows(IllegalArgumentException.class, () -> c.allreduceSum(FloatBuffer.allocate(4)));
            assertTrue(e.getMessage().startsWith("the FloatBuffer is not direct"), e.getMessage());
            FloatBuffer wrongOrder = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN).asFloatBuffer();
            e = assertThrows(IllegalArgumentException.class, () -> c.iallreduceSum(wrongOrder));
            assertTrue(e.getMessage().contains("platform's order"), e.getMessage());
        }
    }

    @Test
    void aClosedCommunicatorSaysSo() {
        Communicator c = Communicators.singleProcess();
        c.close();
        c.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, c::barrier);
        assertEquals("the communicator is closed", e.getMessage());
    }

    @Test
    void theEnvironmentOfOneProcessOpensTheSingleProcessCommunicatorWithoutMpi() {
        // no launcher, and mpirun -np 1: no MPI library is even looked for (this one does not exist)
        MpiOptions noSuchLibrary = MpiOptions.defaults().withLibrary("/nonexistent/libmpi.so");
        for (Map<String, String> env : java.util.List.of(Map.<String, String>of(), Map.of("OMPI_COMM_WORLD_RANK", "0", "OMPI_COMM_WORLD_SIZE", "1"))) {
            try (Communicator c = Communicators.open(env, noSuchLibrary)) {
                assertEquals(1, c.size());
                assertTrue(c.description().startsWith("single process"), c.description());
            }
        }
    }
}
