/*
 * Hand-written "compiled models" for the runtime's tests, built with gcc at
 * test time against nnvm_model_abi.h (see TestModels.java).
 */
#include <sched.h>
#include <stdio.h>
#include <time.h>

#include "nnvm_model_abi.h"

/* Does nothing: the cost of a call from Java. */
int32_t nnvm_test_empty(const nnvm_call* call) {
  return 0;
}

typedef struct fma_rows_ctx {
  const float* a;
  const float* b;
  const float* bias;
  float* out;
  int32_t* visits;
  float* scratch;
  int64_t cols;
} fma_rows_ctx;

static void fma_rows_task(int64_t begin, int64_t end, void* arg) {
  const fma_rows_ctx* ctx = (const fma_rows_ctx*) arg;
  for (int64_t r = begin; r < end; r++) {
    float* scratch = ctx->scratch + r * ctx->cols;
    for (int64_t c = 0; c < ctx->cols; c++) {
      scratch[c] = ctx->a[r * ctx->cols + c] * ctx->b[r * ctx->cols + c];
    }
    for (int64_t c = 0; c < ctx->cols; c++) {
      ctx->out[r * ctx->cols + c] = scratch[c] + ctx->bias[c];
    }
    ctx->visits[r] += 1;
  }
}

/*
 * inputs a, b: f32[rows, cols]; weights: f32[cols]; symbols: rows, cols;
 * outputs out = a * b + weights (broadcast over rows): f32[rows, cols], and
 * visits: i32[rows], each row's count incremented once per visit. The
 * products go through the workspace (f32[rows, cols]) to show it is usable.
 */
int32_t nnvm_test_fma_rows(const nnvm_call* call) {
  if (call->workspace == NULL || call->weights == NULL) {
    snprintf(call->error, (size_t) call->error_capacity, "nnvm_test_fma_rows needs a workspace and weights");
    return 1;
  }
  fma_rows_ctx ctx = {
    (const float*) call->inputs[0], (const float*) call->inputs[1], (const float*) call->weights,
    (float*) call->outputs[0], (int32_t*) call->outputs[1], (float*) call->workspace, call->symbols[1],
  };
  call->parallel_for(call->symbols[0], fma_rows_task, &ctx, call->num_threads);
  return 0;
}

/* Fails with status 7 and a message naming the value when symbols[0] is not 0. */
int32_t nnvm_test_check(const nnvm_call* call) {
  if (call->symbols[0] != 0) {
    snprintf(call->error, (size_t) call->error_capacity, "nnvm_test_check: value %lld is not allowed",
        (long long) call->symbols[0]);
    return 7;
  }
  return 0;
}

/* Fails with a message longer than the error buffer. */
int32_t nnvm_test_fail_long(const nnvm_call* call) {
  char message[5000];
  for (int i = 0; i < (int) sizeof message - 1; i++) {
    message[i] = (char) ('a' + i % 26);
  }
  message[sizeof message - 1] = '\0';
  snprintf(call->error, (size_t) call->error_capacity, "%s", message);
  return -1;
}

typedef struct rendezvous_ctx {
  int32_t arrived;
  int32_t expected;
  int32_t timeouts;
} rendezvous_ctx;

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double) t.tv_sec + t.tv_nsec * 1e-9;
}

static void rendezvous_task(int64_t begin, int64_t end, void* arg) {
  rendezvous_ctx* ctx = (rendezvous_ctx*) arg;
  __atomic_add_fetch(&ctx->arrived, (int32_t) (end - begin), __ATOMIC_SEQ_CST);
  double deadline = seconds() + 5.0;
  while (__atomic_load_n(&ctx->arrived, __ATOMIC_SEQ_CST) < ctx->expected) {
    if (seconds() > deadline) {
      __atomic_add_fetch(&ctx->timeouts, 1, __ATOMIC_SEQ_CST);
      return;
    }
    sched_yield();
  }
}

/*
 * Runs num_threads one-index tasks that each wait (up to 5 s) until all of
 * them have started: output i32[1] is 1 when they all ran at the same time,
 * which needs num_threads threads, and 0 when some task gave up waiting.
 */
int32_t nnvm_test_rendezvous(const nnvm_call* call) {
  rendezvous_ctx ctx = {0, call->num_threads, 0};
  call->parallel_for(call->num_threads, rendezvous_task, &ctx, call->num_threads);
  *(int32_t*) call->outputs[0] = ctx.timeouts == 0 && ctx.arrived == ctx.expected;
  return 0;
}
