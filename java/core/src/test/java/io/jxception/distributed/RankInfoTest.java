package io.jxception.distributed;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class RankInfoTest {
    @Test
    void nothingSetIsOneProcess() {
        RankInfo r = RankInfo.fromEnvironment(Map.of());
        assertEquals(new RankInfo(0, 1, 0, 1, "single process"), r);
        assertFalse(r.isMultiProcess());
    }

    @Test
    void openMpisMpirunGivesRankSizeAndLocalRank() {
        RankInfo r = RankInfo.fromEnvironment(Map.of("OMPI_COMM_WORLD_RANK", "3", "OMPI_COMM_WORLD_SIZE", "8",
                "OMPI_COMM_WORLD_LOCAL_RANK", "1", "OMPI_COMM_WORLD_LOCAL_SIZE", "2"));
        assertEquals(3, r.rank());
        assertEquals(8, r.size());
        assertEquals(1, r.localRank());
        assertEquals(2, r.localSize());
        assertTrue(r.isMultiProcess());
        assertEquals("OMPI_COMM_WORLD_RANK=3, OMPI_COMM_WORLD_SIZE=8, OMPI_COMM_WORLD_LOCAL_RANK=1", r.source());
    }

    @Test
    void hydraAndMvapichAndSrunAreRead() {
        assertEquals(new RankInfo(1, 4, 1, 2, "PMI_RANK=1, PMI_SIZE=4, MPI_LOCALRANKID=1"),
                RankInfo.fromEnvironment(Map.of("PMI_RANK", "1", "PMI_SIZE", "4", "MPI_LOCALRANKID", "1", "MPI_LOCALNRANKS", "2")));
        assertEquals(2, RankInfo.fromEnvironment(Map.of("MV2_COMM_WORLD_RANK", "2", "MV2_COMM_WORLD_SIZE", "3")).rank());
        RankInfo srun = RankInfo.fromEnvironment(Map.of("SLURM_PROCID", "5", "SLURM_STEP_NUM_TASKS", "6", "SLURM_LOCALID", "1", "SLURM_NTASKS", "6"));
        assertEquals(new RankInfo(5, 6, 1, 0, "SLURM_PROCID=5, SLURM_STEP_NUM_TASKS=6, SLURM_LOCALID=1"), srun);
    }

    @Test
    void aSlurmBatchScriptIsOneProcessWhateverTheAllocationsTaskCount() {
        // sbatch -n 4 job.sh: the script itself sees SLURM_NTASKS=4 and SLURM_PROCID=0 but is a single process
        RankInfo r = RankInfo.fromEnvironment(Map.of("SLURM_NTASKS", "4", "SLURM_PROCID", "0", "SLURM_LOCALID", "0"));
        assertFalse(r.isMultiProcess(), r.toString());
    }

    @Test
    void mpirunInsideASlurmAllocationWinsOverTheInheritedSlurmValues() {
        // the daemon that mpirun started with srun passes its own SLURM_* values to every rank it starts
        RankInfo r = RankInfo.fromEnvironment(Map.of("OMPI_COMM_WORLD_RANK", "3", "OMPI_COMM_WORLD_SIZE", "4", "OMPI_COMM_WORLD_LOCAL_RANK", "1",
                "SLURM_PROCID", "0", "SLURM_STEP_NUM_TASKS", "2", "SLURM_LOCALID", "0"));
        assertEquals(3, r.rank());
        assertEquals(4, r.size());
        assertEquals(1, r.localRank());
        assertEquals(1, RankInfo.localRank(Map.of("OMPI_COMM_WORLD_LOCAL_RANK", "1", "SLURM_LOCALID", "0")));
    }

    @Test
    void aLocalRankAloneStillGivesTheLocalRankOfOneProcess() {
        RankInfo r = RankInfo.fromEnvironment(Map.of("LOCAL_RANK", "2"));
        assertEquals(1, r.size());
        assertEquals(2, r.localRank());
        assertEquals(2, RankInfo.localRank(Map.of("LOCAL_RANK", "2")));
        assertEquals(0, RankInfo.localRank(Map.of()));
    }

    @Test
    void malformedOrContradictoryValuesSayWhichVariable() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RankInfo.fromEnvironment(Map.of("OMPI_COMM_WORLD_RANK", "x", "OMPI_COMM_WORLD_SIZE", "2")));
        assertTrue(e.getMessage().startsWith("OMPI_COMM_WORLD_RANK=x is not a rank"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RankInfo.fromEnvironment(Map.of("PMI_RANK", "4", "PMI_SIZE", "4")));
        assertEquals("PMI_RANK=4 is not below PMI_SIZE=4", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RankInfo.fromEnvironment(Map.of("SLURM_PROCID", "0", "SLURM_STEP_NUM_TASKS", "0")));
        assertTrue(e.getMessage().startsWith("SLURM_STEP_NUM_TASKS=0 is not a process count"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RankInfo.localRank(Map.of("SLURM_LOCALID", "-1")));
        assertTrue(e.getMessage().startsWith("SLURM_LOCALID=-1"), e.getMessage());
    }

    @Test
    void shardIsIOfN() {
        assertEquals(new RankInfo(2, 4, 0, 0, "--shard 2/4"), RankInfo.parseShard("2/4"));
        assertEquals(new RankInfo(0, 1, 0, 0, "--shard 0/1"), RankInfo.parseShard(" 0 / 1 "));
        for (String bad : new String[]{"4/4", "-1/4", "1/0", "1", "/4", "a/b", "1/2/3", ""}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RankInfo.parseShard(bad), bad);
            assertTrue(e.getMessage().startsWith("--shard " + bad), e.getMessage());
        }
    }

    @Test
    void sharesAreContiguousAndConcatenateToEveryItemInOrder() {
        for (int size : new int[]{1, 2, 3, 7}) {
            for (long items : new long[]{0, 1, 5, 6, 7, 100}) {
                long next = 0;
                for (int rank = 0; rank < size; rank++) {
                    RankInfo.Share s = new RankInfo(rank, size, 0, 0, "test").share(items);
                    assertEquals(next, s.first(), "rank " + rank + " of " + size + ", " + items + " items");
                    assertTrue(s.count() == items / size || s.count() == items / size + 1);
                    next = s.end();
                }
                assertEquals(items, next);
            }
        }
        assertEquals(new RankInfo.Share(4, 3), new RankInfo(1, 3, 0, 0, "test").share(10), "10 items over 3 ranks: 4, 3, 3");
    }
}
