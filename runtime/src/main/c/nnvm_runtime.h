/*
 * The native side of the NNVM runtime: the thread pool behind
 * nnvm_call.parallel_for. The JNI functions in nnvm_runtime.c are declared
 * by the header javac generates for dev.nnvm.runtime.nativeio.Natives.
 */
#ifndef NNVM_RUNTIME_H
#define NNVM_RUNTIME_H

#include <stdint.h>

#include "nnvm_model_abi.h"

/* The most threads the pool can ever be asked for (callers included). */
#define NNVM_POOL_MAX_THREADS 256

/*
 * The parallel loop handed to models (see nnvm_model_abi.h for the
 * contract). Policy against oversubscription: a call runs on its own thread
 * plus at most threads - 1 pool workers that are idle at that moment; the
 * pool never has more than max_threads - 1 workers busy in the whole
 * process, so a call that finds none free runs with fewer threads instead of
 * waiting. Workers are started on first need and live as long as the
 * process; they block every asynchronous signal, so the JVM's signals reach
 * its own threads, while faults still reach the JVM's crash handler.
 */
void nnvm_parallel_for(int64_t n, nnvm_task task, void* ctx, int32_t threads);

/* Sets the process-wide limit (1..NNVM_POOL_MAX_THREADS) on threads of one call. */
void nnvm_pool_set_max_threads(int32_t max_threads);

/* The process-wide limit on threads of one call. */
int32_t nnvm_pool_max_threads(void);

/* Pool workers started so far. */
int32_t nnvm_pool_workers(void);

#endif /* NNVM_RUNTIME_H */
