/*
 * The runtime's persistent thread pool (see nnvm_runtime.h for the policy).
 *
 * How it works: one mutex guards the pool. Each worker sleeps on its own
 * condition variable until a caller hands it a job. A caller claims idle
 * workers (starting new ones while under the limit), points them at a job
 * that lives on its own stack, and then works on the job itself: every
 * participant takes the next range of indices with an atomic add until the
 * loop is done. A worker puts itself back on the idle stack before it
 * reports the job finished, so once a call returns its workers are idle
 * again, and the job is only touched under the mutex after that.
 *
 * Hand-offs spin before they sleep: a worker that finished a job polls its
 * job pointer for up to NNVM_POOL_SPIN_NS before waiting on its condition
 * variable, and a caller polls the job's pending count as long before
 * waiting for the workers. A model run calls the pool once per parallel
 * kernel, often every few tens of microseconds, and a futex wake-up costs
 * about that much; polling keeps the hand-off near a cache-line transfer,
 * as ONNX Runtime's spinning pool does. Signals to a worker that is still
 * polling find no waiter and stay in user space.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "nnvm_runtime.h"

typedef struct pool_job {
  nnvm_task task;
  void* ctx;
  uint64_t n;
  uint64_t chunk;
  uint64_t next;  /* atomic: the first index not handed out yet */
  int pending;    /* workers still on the job; changed under the pool mutex, polled by the caller */
} pool_job;

typedef struct pool_worker {
  pthread_cond_t wake;
  pool_job* job;  /* guarded by the pool mutex; NULL while idle */
  int index;
} pool_worker;

static pthread_mutex_t pool_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_done = PTHREAD_COND_INITIALIZER;
static pool_worker* pool_workers[NNVM_POOL_MAX_THREADS];
static int pool_started;
static int pool_idle[NNVM_POOL_MAX_THREADS];
static int pool_idle_count;
static int pool_max_threads = 1;

/* How long a hand-off polls before it sleeps, in nanoseconds. */
#define NNVM_POOL_SPIN_NS 200000

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t) t.tv_sec * 1000000000u + (uint64_t) t.tv_nsec;
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/* Spin clock: starts on the first call, says 0 once NNVM_POOL_SPIN_NS have passed (checked every 64 polls). */
typedef struct spin_clock {
  unsigned polls;
  uint64_t start;
} spin_clock;

static int keep_spinning(spin_clock* c) {
  cpu_relax();
  if ((++c->polls & 63) != 0) {
    return 1;
  }
  uint64_t t = now_ns();
  if (c->start == 0) {
    c->start = t;
    return 1;
  }
  return t - c->start <= NNVM_POOL_SPIN_NS;
}

/* Polls a worker's job pointer until a job arrives or the spin time is over. */
static void spin_for_job(pool_worker* self) {
  spin_clock c = {0, 0};
  while (__atomic_load_n(&self->job, __ATOMIC_ACQUIRE) == NULL && keep_spinning(&c)) {
  }
}

/* Polls a job's pending count; returns 1 when it reached 0 within the spin time. */
static int spin_until_done(pool_job* job) {
  spin_clock c = {0, 0};
  for (;;) {
    if (__atomic_load_n(&job->pending, __ATOMIC_ACQUIRE) == 0) {
      return 1;
    }
    if (!keep_spinning(&c)) {
      return 0;
    }
  }
}

/* Set on pool workers, and on a caller while it runs a job: nested loops run inline. */
static __thread int in_parallel_loop;

static void run_ranges(pool_job* job) {
  for (;;) {
    uint64_t begin = __atomic_fetch_add(&job->next, job->chunk, __ATOMIC_RELAXED);
    if (begin >= job->n) {
      return;
    }
    uint64_t end = job->n - begin > job->chunk ? begin + job->chunk : job->n;
    job->task((int64_t) begin, (int64_t) end, job->ctx);
  }
}

/* Runs the whole loop on the calling thread; loops nested in it run inline too. */
static void run_inline(int64_t n, nnvm_task task, void* ctx) {
  in_parallel_loop = 1;
  task(0, n, ctx);
  in_parallel_loop = 0;
}

static void* worker_main(void* arg) {
  pool_worker* self = (pool_worker*) arg;
  in_parallel_loop = 1;
  for (;;) {
    spin_for_job(self);
    pthread_mutex_lock(&pool_mutex);
    while (self->job == NULL) {
      pthread_cond_wait(&self->wake, &pool_mutex);
    }
    pool_job* job = self->job;
    pthread_mutex_unlock(&pool_mutex);
    run_ranges(job);
    pthread_mutex_lock(&pool_mutex);
    __atomic_store_n(&self->job, NULL, __ATOMIC_RELAXED);
    pool_idle[pool_idle_count++] = self->index;
    /* The job is not touched after this: the caller may return as soon as it reads 0. */
    if (__atomic_sub_fetch(&job->pending, 1, __ATOMIC_RELEASE) == 0) {
      pthread_cond_broadcast(&pool_done);
    }
    pthread_mutex_unlock(&pool_mutex);
  }
  return NULL;
}

/* Starts one more worker and pushes it on the idle stack; 0 when the system refuses. Mutex held. */
static int start_worker(void) {
  pool_worker* w = (pool_worker*) calloc(1, sizeof(pool_worker));
  if (w == NULL) {
    return 0;
  }
  if (pthread_cond_init(&w->wake, NULL) != 0) {
    free(w);
    return 0;
  }
  w->index = pool_started;
  /* Asynchronous signals belong to the JVM's threads; faults still reach its crash handler. */
  sigset_t blocked, saved;
  sigfillset(&blocked);
  sigdelset(&blocked, SIGSEGV);
  sigdelset(&blocked, SIGBUS);
  sigdelset(&blocked, SIGFPE);
  sigdelset(&blocked, SIGILL);
  sigdelset(&blocked, SIGTRAP);
  sigdelset(&blocked, SIGSYS);
  pthread_sigmask(SIG_SETMASK, &blocked, &saved);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  int rc = pthread_create(&thread, &attr, worker_main, w);
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &saved, NULL);
  if (rc != 0) {
    pthread_cond_destroy(&w->wake);
    free(w);
    return 0;
  }
  pool_workers[pool_started++] = w;
  pool_idle[pool_idle_count++] = w->index;
  return 1;
}

void nnvm_parallel_for(int64_t n, nnvm_task task, void* ctx, int32_t threads) {
  if (n <= 0) {
    return;
  }
  if (in_parallel_loop) {
    task(0, n, ctx);
    return;
  }
  if (threads <= 1 || n == 1) {
    run_inline(n, task, ctx);
    return;
  }
  int wanted = (int64_t) threads - 1 < n - 1 ? threads - 1 : (int) (n - 1);
  pool_job job = {task, ctx, (uint64_t) n, 0, 0, 0};

  pthread_mutex_lock(&pool_mutex);
  int busy = pool_started - pool_idle_count;
  int allowed = pool_max_threads - 1 - busy;
  if (wanted > allowed) {
    wanted = allowed > 0 ? allowed : 0;
  }
  while (pool_idle_count < wanted && pool_started < NNVM_POOL_MAX_THREADS - 1) {
    if (!start_worker()) {
      break;
    }
  }
  int claimed = wanted < pool_idle_count ? wanted : pool_idle_count;
  if (claimed == 0) {
    pthread_mutex_unlock(&pool_mutex);
    run_inline(n, task, ctx);
    return;
  }
  /*
   * About four ranges per participant: late workers still find work, the atomic stays cold. A loop of
   * few items (up to 32 per participant, such as a convolution's 27 column tiles) hands them out one
   * at a time instead: with 4-item ranges, 27 tiles split 16 / 11 between two threads.
   */
  uint64_t participants = (uint64_t) claimed + 1;
  uint64_t slices = participants * 4;
  job.chunk = job.n <= participants * 32 ? 1 : job.n / slices + (job.n % slices != 0);
  for (int i = 0; i < claimed; i++) {
    pool_worker* w = pool_workers[pool_idle[--pool_idle_count]];
    job.pending++;
    __atomic_store_n(&w->job, &job, __ATOMIC_RELEASE);
    pthread_cond_signal(&w->wake);
  }
  pthread_mutex_unlock(&pool_mutex);

  in_parallel_loop = 1;
  run_ranges(&job);
  in_parallel_loop = 0;

  if (spin_until_done(&job)) {
    /* Every worker is done, and each put itself back on the idle stack before it said so. */
    return;
  }
  pthread_mutex_lock(&pool_mutex);
  while (job.pending > 0) {
    pthread_cond_wait(&pool_done, &pool_mutex);
  }
  pthread_mutex_unlock(&pool_mutex);
}

void nnvm_pool_set_max_threads(int32_t max_threads) {
  pthread_mutex_lock(&pool_mutex);
  pool_max_threads = max_threads < 1 ? 1 : max_threads > NNVM_POOL_MAX_THREADS ? NNVM_POOL_MAX_THREADS : max_threads;
  pthread_mutex_unlock(&pool_mutex);
}

int32_t nnvm_pool_max_threads(void) {
  pthread_mutex_lock(&pool_mutex);
  int32_t max_threads = pool_max_threads;
  pthread_mutex_unlock(&pool_mutex);
  return max_threads;
}

int32_t nnvm_pool_workers(void) {
  pthread_mutex_lock(&pool_mutex);
  int32_t started = pool_started;
  pthread_mutex_unlock(&pool_mutex);
  return started;
}
