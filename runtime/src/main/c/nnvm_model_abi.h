/*
 * The C ABI between the NNVM runtime and a compiled model.
 *
 * A compiled model is a shared library that exports one entry point per
 * model, of type nnvm_entry. The runtime fills an nnvm_call and calls the
 * entry point once per batch; the model runs every kernel of its plan and
 * returns. The code generator targets this header; the runtime's JNI shim
 * (nnvm_runtime.c) is compiled against it, and the Java side reads the
 * field offsets from the shim, so the layout has a single source of truth.
 *
 * Contract, field by field:
 *
 *   inputs     One pointer per model input, in manifest order. Each points
 *              to a dense, row-major tensor of the manifest's element type
 *              and the shape given by the symbol values. Read-only. The
 *              runtime guarantees element alignment only (inputs may be
 *              Arrow buffers); a pointer to an empty tensor may be NULL.
 *   outputs    One pointer per model output, in manifest order, dense and
 *              row-major; the model writes every element. Same alignment
 *              rule as the inputs.
 *   workspace  The planned scratch memory of this call, 64-byte aligned, at
 *              least the planned size for these symbol values; NULL when the
 *              plan needs none. Not zeroed. Owned by one caller at a time.
 *   weights    The weights blob, 64-byte aligned, read-only, shared by every
 *              concurrent call of the same model; NULL when there are none.
 *   symbols    The values of the symbolic dimensions (N, seq, ...), in
 *              manifest order; always a valid pointer, even when the model
 *              has no symbols.
 *   num_threads
 *              The intra-op threads the kernels may use, at least 1. A model
 *              passes this value (or less) to parallel_for; it never starts
 *              threads of its own.
 *   parallel_for
 *              Never NULL. Runs task(begin, end, ctx) over disjoint ranges
 *              that together cover [0, n), on the calling thread and on at
 *              most threads - 1 threads of the runtime's pool, and returns
 *              when every range is done. n <= 0 does nothing. Ranges are
 *              handed out dynamically, so a task must not assume how many
 *              ranges or threads there are; a task that needs per-thread
 *              scratch should call parallel_for with n equal to its number
 *              of scratch slots and use the indices of its range as slots.
 *              A parallel_for called from inside a task runs the whole range
 *              inline on that thread. A task must return normally (no
 *              longjmp, no C++ exception).
 *   error      A buffer of error_capacity bytes. Its first byte is NUL when
 *              the call starts. On failure the model writes a NUL-terminated
 *              message of at most error_capacity bytes (snprintf(error,
 *              error_capacity, ...)), which the runtime turns into a Java
 *              exception.
 *
 * The entry point returns 0 on success and any other value on failure (the
 * value is reported with the message). It may be called concurrently from
 * several threads with different nnvm_call structs, workspaces and outputs;
 * it keeps no mutable global state. All pointers are only valid during the
 * call.
 */
#ifndef NNVM_MODEL_ABI_H
#define NNVM_MODEL_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever nnvm_call or the contract above changes incompatibly. */
#define NNVM_MODEL_ABI_VERSION 1

/* A piece of parallel work: handles the indices [begin, end). */
typedef void (*nnvm_task)(int64_t begin, int64_t end, void* ctx);

/* The runtime's parallel loop, passed to the model in nnvm_call. */
typedef void (*nnvm_parallel_for_fn)(int64_t n, nnvm_task task, void* ctx, int32_t threads);

typedef struct nnvm_call {
  const void* const* inputs;  /* one pointer per model input, manifest order */
  void* const* outputs;       /* one pointer per model output */
  void* workspace;            /* planned workspace, 64-byte aligned */
  const void* weights;        /* weights blob, 64-byte aligned */
  const int64_t* symbols;     /* values of the symbolic dimensions, manifest order */
  int32_t num_threads;        /* intra-op threads the kernels may use (>= 1) */
  nnvm_parallel_for_fn parallel_for;
  char* error;                /* buffer for an error message */
  int32_t error_capacity;
} nnvm_call;

/* A model's entry point: 0 = success. */
typedef int32_t (*nnvm_entry)(const nnvm_call* call);

#ifdef __cplusplus
}
#endif

#endif /* NNVM_MODEL_ABI_H */
