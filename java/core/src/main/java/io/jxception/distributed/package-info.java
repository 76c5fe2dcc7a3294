/**
 * Running as one process of many: where this process stands ({@link io.jxception.distributed.RankInfo},
 * from the launcher's environment, no library needed) and the collectives among the processes
 * ({@link io.jxception.distributed.Communicator}: MPI through JNA, or a single process in which every
 * collective is the identity).
 *
 * <pre>{@code
 * try (Communicator comm = Communicators.fromEnvironment()) {   // MPI under mpirun/srun with n > 1, else a single process
 *     comm.broadcast(weights, 0);                                // rank 0's weights everywhere
 *     ...
 *     comm.allreduceSum(gradients);                              // Σ over ranks, in place
 * }
 * }</pre>
 *
 * <h2>MPI</h2>
 * The binding ({@code io.jxception.internal.distributed}) loads the launcher's libmpi at run time
 * (Open MPI's mpirun: libmpi.so.40; MPICH's Hydra: libmpi.so.12 / libmpich.so.12; or
 * {@code JXCEPTION_MPI_LIBRARY}), reads its ABI from {@code MPI_Get_library_version} (Open MPI's
 * handles are addresses of exported objects, MPICH's are int constants), and calls
 * {@code MPI_Init_thread} once per process, asking for SERIALIZED by default. It checks that MPI's
 * world is the one the launcher announced (a library of another MPI makes every process a world of
 * one: an error, not a silent single-process run), puts back the JVM's signal handlers where loading
 * libmpi or MPI_Init replaced them, and turns MPI errors into
 * {@link io.jxception.distributed.CommunicatorException}s with MPI's error text. The one piece of
 * global state, MPI's init/finalize, is counted: the last communicator closed finalises MPI, which
 * cannot be initialised again in the same process.
 *
 * <h2>Planned use (issue 15, second part)</h2>
 * <ul>
 *   <li><b>Data-parallel training.</b> Rank 0's initial (or resumed) weights and momentum are
 *       broadcast; every rank draws the same epoch permutation ({@code EpochPlan}, seeded) and takes
 *       its slice of each global batch of N·B images (rank r: positions [r·B, (r+1)·B) of the
 *       global batch), so N ranks × B see exactly the images of one rank × N·B. Each rank scales its
 *       loss by 1/N (through the head's loss scale: exact for N a power of two), so that every
 *       reduction is a plain sum. The backward loop of {@code TrainingSession.forwardBackward}
 *       finishes a node's weight gradients (convBackward, and the BN's dGamma, dBeta) in reverse
 *       topological order: a hook after each node adds its gradients to the current bucket
 *       (~25 MB) and starts {@link io.jxception.distributed.Communicator#iallreduceSum} when the bucket
 *       is full, calling {@link io.jxception.distributed.AllreduceRequest#test()} after each later
 *       node so that MPI progresses; {@code sgdStep} awaits every bucket first. GPU gradients are
 *       staged through page-locked host memory wrapped as a direct buffer (no copy into the Java
 *       heap); a CUDA-aware MPI or NCCL would take device pointers through a separate device-side
 *       communicator, not this interface. The loss scaler's overflow flag, the loss and the
 *       accuracy counts travel in one small allreduce per step, so that every rank skips the same
 *       steps and rank 0 logs global numbers.</li>
 *   <li><b>Synchronised batch norm.</b> {@code Backend.batchNormTrain} computes the batch moments
 *       and applies them in one call; it splits into per-channel partial sums (Σz, then
 *       Σ(z − mean)² with the global mean: the two-pass moments of {@code BatchNormOps}), an
 *       allreduce of C values each, and the apply (plus the moving-statistics update) with the global
 *       mean and invStd over N·rows rows. The backward splits the same way: partial dBeta = Σg and
 *       dGamma = Σg·x̂, an allreduce, then dz with the global sums and row count. The BN weights'
 *       gradients are then already global and stay out of the buckets. Without sync BN each rank
 *       normalises by its own batch (PyTorch DDP's default); rank 0's moving statistics are the ones
 *       saved (or the ranks' are averaged before a checkpoint: to be decided and documented).</li>
 *   <li><b>Files.</b> Rank 0 alone writes checkpoints, logs, plots and the final weights; every
 *       rank still reloads the saved fp32 values after a checkpoint (as {@code Trainer} does now), so
 *       the ranks stay bitwise identical. {@code --resume}: rank 0 reads the checkpoint and broadcasts
 *       the weights, momentum and state (a byte broadcast of the state), so that output folders need
 *       not be shared. The run identity must name the backend kind and precision, not the device
 *       index (ranks run on cuda:0..k). At start the ranks compare a hash of the image list and the
 *       options (a byte gather at rank 0) and stop with a message naming the rank that differs.</li>
 *   <li><b>Signals.</b> SIGUSR1 (SLURM's warning before the time limit) and SIGTERM set a flag
 *       through a Java signal handler installed after the communicator is open (MPICH installs its
 *       own SIGUSR1 handler in MPI_Init); the flag joins the per-step allreduce, so every rank stops
 *       after the same step, rank 0 writes the checkpoint, and every rank closes the communicator.
 *       A rank that fails calls {@link io.jxception.distributed.Communicator#abortJob} after
 *       reporting its error, so that the others do not wait forever in their next collective.</li>
 *   <li><b>Sharded inference.</b> {@link io.jxception.distributed.RankInfo} (from the communicator,
 *       the launcher's variables, or {@code --shard i/n}) gives each rank a contiguous share
 *       ({@link io.jxception.distributed.RankInfo#share}) of whole batches, so each image is computed
 *       in the same batch as in a single-process run; rank 0 gathers the outputs in rank order
 *       ({@link io.jxception.distributed.Communicator#gatherv}) and writes one file, or, without MPI,
 *       each process writes a part that {@code jxception merge} concatenates.</li>
 * </ul>
 */
package io.jxception.distributed;
