/**
 * The MPI binding behind {@link io.jxception.distributed.Communicators}: JNA calls into the libmpi of
 * the launcher ({@link io.jxception.internal.distributed.MpiLibrary}), the ABI's handles
 * ({@link io.jxception.internal.distributed.MpiAbi}), MPI's once-per-process initialisation
 * ({@link io.jxception.internal.distributed.MpiProcess}) and the communicator
 * ({@link io.jxception.internal.distributed.MpiCommunicator}). Not an API: use
 * {@code io.jxception.distributed}.
 */
package io.jxception.internal.distributed;
