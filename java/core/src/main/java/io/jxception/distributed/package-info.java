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
 * <h2>How the library uses it (issue 15)</h2>
 * <ul>
 *   <li><b>Data-parallel training</b> ({@link io.jxception.train.Trainer#communicator}). Rank 0's
 *       initial weights, or the checkpoint rank 0 read (weights, momentum, state), are broadcast;
 *       every rank draws the same seeded epoch order in global batches of N·B and trains on
 *       positions [r·B, (r+1)·B) of each, augmented as in the whole batch. Each rank's loss scale
 *       is 1/N, so the gradient exchange is a plain sum ({@code internal.exec.GradientExchange}):
 *       buckets of about 25 MB in the order the backward pass finishes the gradients, each staged
 *       to the host and started with {@link io.jxception.distributed.Communicator#iallreduceSum}
 *       as it completes, progressed with {@link io.jxception.distributed.AllreduceRequest#test()}
 *       after every later layer and awaited before the update; or, with
 *       {@code TrainOptions.overlapGradientExchange} false, summed with blocking allreduces after
 *       the backward pass (faster on one shared-memory machine, where the reduction runs on the
 *       cores that compute: measured in benchmarks/mpi). One allreduce of five doubles per step
 *       carries the loss, the accuracy counts, an fp16 overflow and a stop request, so that every
 *       rank skips, logs and stops alike; a non-finite loss on one rank is every rank's
 *       divergence. At start the ranks gather their settings and image-list digests at rank 0,
 *       which names the first rank and setting that differ.</li>
 *   <li><b>Synchronised batch norm</b> ({@code TrainOptions.syncBatchNorm}). The backends split
 *       batch norm into per-channel sums and an apply ({@code KernelBackend.batchNormSums},
 *       {@code batchNormApply}, {@code batchNormBackwardSums}, {@code batchNormBackwardApply}):
 *       Σz, then Σ(z − mean)² with the global mean, each summed over the ranks (c doubles), the
 *       apply and moving-statistics update with the global mean and variance over N·rows rows;
 *       backward, Σg and Σg·x̂ summed (one allreduce of 2c), then dz with the global sums. The BN
 *       weights' gradients are then global already and stay out of the buckets. Without sync BN
 *       each rank normalises by its own batch and the moving statistics are averaged over the
 *       ranks after each forward pass (started with the buckets), which keeps every rank's weights
 *       identical and uses every rank's statistics (rather than rank 0's alone, as DDP's buffer
 *       broadcast does).</li>
 *   <li><b>Files.</b> Rank 0 alone writes checkpoints, the log and the final weights; a failure to
 *       write is broadcast, so every rank fails with rank 0's message instead of waiting. Every
 *       rank reloads the saved fp32 values after a checkpoint, so the ranks stay bitwise
 *       identical and a resumed run repeats the uninterrupted one. The checkpoint records the
 *       backend's kind and precision (ranks run on cuda:0..k), the number of ranks and sync BN;
 *       a run resumes only as it started.</li>
 *   <li><b>Signals and failures.</b> The CLI handles SIGTERM and SIGUSR1 after the communicator is
 *       open (MPICH installs its own SIGUSR1 handler in MPI_Init) by calling
 *       {@link io.jxception.train.Trainer#requestStop}: the request joins the next step's
 *       agreement, every rank stops after it, rank 0 writes the checkpoint, every rank exits 0.
 *       Open MPI 4.1's mpirun does not forward SIGUSR1 to its ranks (SIGUSR2 only, which the JVM
 *       reserves), so under mpirun the signal must reach the ranks themselves (srun does that). A
 *       rank that fails reports its error and calls
 *       {@link io.jxception.distributed.Communicator#abortJob}.</li>
 *   <li><b>Sharded inference</b> (the CLI's {@code infer}, {@code classify}). Each rank takes a
 *       contiguous share of whole batches ({@link io.jxception.distributed.RankInfo#share} over
 *       the batch count), so each image is computed in the same batch as in a single-process run;
 *       rank 0 gathers the outputs in rank order
 *       ({@link io.jxception.distributed.Communicator#gatherv}) and writes one file, bitwise a
 *       single process's; without MPI, {@code --shard i/n} writes parts that
 *       {@code jxception merge} concatenates.</li>
 * </ul>
 */
package io.jxception.distributed;
