/*
 * Test driver for the generated GEMM kernels (GemmGenerator): dlopens a shared library built by
 * the test and runs it as a plain C program, so the kernels are checked before any JNI exists.
 *
 *   gemm_driver check LIB.so   every kernel of the test module on many shapes, thread counts and
 *                              leading dimensions, against a double-precision reference; prints
 *                              one line per case and exits 1 when any case fails
 *   gemm_driver ws LIB.so M N K T
 *                              prints gemm_workspace_bytes(M, N, K, T)
 *   gemm_driver bench LIB.so PEAK.so
 *                              GFLOP/s of the plain kernel (1 and 2 threads) and the FMA peak
 *
 * The kernels the check expects: gemm (no epilogue), gemm_bias, gemm_bias_relu, gemm_residual,
 * gemm_bias_residual_relu, gemm_rowbias_relu, gemm_mr12_bias_residual_relu (see GemmKernelTest).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void (*task_fn)(int64_t begin, int64_t end, void *ctx);
typedef void (*pfor_fn)(int64_t n, task_fn task, void *ctx, int32_t threads);
typedef void (*gemm_fn)(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *B,
                        int64_t ldb, float *C, int64_t ldc, const float *bias, const float *R, int64_t ldr,
                        void *ws, pfor_fn pfor, int32_t threads);
typedef int64_t (*ws_fn)(int64_t M, int64_t N, int64_t K, int32_t threads);

/* Serial parallel_for: splits [0, n) into `threads` chunks and runs them last to first. */
static void serial_pfor(int64_t n, task_fn task, void *ctx, int32_t threads) {
    int64_t chunks = threads < n ? threads : n;
    for (int64_t c = chunks - 1; c >= 0; c--) {
        task(n * c / chunks, n * (c + 1) / chunks, ctx);
    }
}

struct chunk { task_fn task; void *ctx; int64_t begin, end; };

static void *run_chunk(void *arg) {
    struct chunk *c = arg;
    c->task(c->begin, c->end, c->ctx);
    return NULL;
}

/* Threaded parallel_for: one pthread per chunk (the calling thread takes chunk 0). */
static void thread_pfor(int64_t n, task_fn task, void *ctx, int32_t threads) {
    int64_t chunks = threads < n ? threads : n;
    struct chunk parts[64];
    pthread_t ids[64];
    if (chunks > 64) chunks = 64;
    for (int64_t c = 0; c < chunks; c++) {
        parts[c] = (struct chunk){task, ctx, n * c / chunks, n * (c + 1) / chunks};
    }
    for (int64_t c = 1; c < chunks; c++) pthread_create(&ids[c], NULL, run_chunk, &parts[c]);
    run_chunk(&parts[0]);
    for (int64_t c = 1; c < chunks; c++) pthread_join(ids[c], NULL);
}

static uint64_t rng = 88172645463325252ull;
static float next_float(void) { /* uniform in [-1, 1) */
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static void *load(void *lib, const char *name) {
    void *f = dlsym(lib, name);
    if (!f) { fprintf(stderr, "missing symbol %s: %s\n", name, dlerror()); exit(2); }
    return f;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

struct kernel { const char *name; int bias, residual, relu; gemm_fn f; ws_fn ws; };
static struct kernel kernels[] = {
    {"gemm", 0, 0, 0, NULL},
    {"gemm_bias", 1, 0, 0, NULL},
    {"gemm_bias_relu", 1, 0, 1, NULL},
    {"gemm_residual", 0, 1, 0, NULL},
    {"gemm_bias_residual_relu", 1, 1, 1, NULL},
    {"gemm_rowbias_relu", 2, 0, 1, NULL}, /* bias 2: one per row of C (a convolution's bias) */
    {"gemm_mr12_bias_residual_relu", 1, 1, 1, NULL}, /* 12-row register blocks */
};
#define NKERNELS (int)(sizeof kernels / sizeof kernels[0])
static ws_fn workspace_bytes;

static const float SENTINEL = 12345.5f;
static const unsigned char GUARD = 0xA5;

/* One case; returns 1 when it passed. Rows are sampled for large problems (every row is checked
 * otherwise); columns beyond N in C's leading dimension must keep their sentinel. */
static int check(struct kernel *k, int64_t M, int64_t N, int64_t K, int64_t pad, int threads, pfor_fn pfor,
                 const char *pname) {
    int64_t lda = K + pad, ldb = N + pad, ldc = N + pad, ldr = N + 2 * pad;
    float *A = malloc(sizeof(float) * (M * lda + 1));
    float *B = malloc(sizeof(float) * (K * ldb + 1));
    float *C = malloc(sizeof(float) * (M * ldc + 1));
    float *bias = malloc(sizeof(float) * ((M > N ? M : N) + 1));
    float *R = malloc(sizeof(float) * (M * ldr + 1));
    for (int64_t i = 0; i < M * lda; i++) A[i] = next_float();
    for (int64_t i = 0; i < K * ldb; i++) B[i] = next_float();
    for (int64_t i = 0; i < M * ldc; i++) C[i] = SENTINEL;
    for (int64_t i = 0; i < (M > N ? M : N); i++) bias[i] = next_float();
    for (int64_t i = 0; i < M * ldr; i++) R[i] = next_float();
    int64_t wsb = k->ws(M, N, K, threads); /* each kernel sizes its own (12-row blocks pack more of A) */
    unsigned char *ws = aligned_alloc(64, (size_t)((wsb + 64 + 63) / 64 * 64));
    memset(ws + wsb, GUARD, 64);

    k->f(M, N, K, A, lda, B, ldb, C, ldc, k->bias ? bias : NULL, k->residual ? R : NULL, ldr, ws, pfor, threads);

    int ok = 1;
    for (int i = 0; i < 64; i++) if (ws[wsb + i] != GUARD) ok = 0;
    if (!ok) printf("workspace overrun past %lld bytes\n", (long long)wsb);
    double maxabs = 0, maxrel = 0, worst = 0;
    int64_t rowstep = (double)M * N * K > 2e7 ? 37 : 1;
    int64_t nrows = (M - 1) / rowstep + 2;
    for (int64_t r = 0; r < nrows; r++) {
        int64_t i = r * rowstep < M ? r * rowstep : M - 1;
        for (int64_t j = 0; j < N; j++) {
            double ref = 0, scale = 0;
            for (int64_t p = 0; p < K; p++) {
                double t = (double)A[i * lda + p] * B[p * ldb + j];
                ref += t;
                scale += fabs(t);
            }
            if (k->bias == 1) { ref += bias[j]; scale += fabs(bias[j]); }
            if (k->bias == 2) { ref += bias[i]; scale += fabs(bias[i]); }
            if (k->residual) { ref += R[i * ldr + j]; scale += fabs(R[i * ldr + j]); }
            if (k->relu && ref <= 0) ref = 0;
            double got = C[i * ldc + j];
            double d = fabs(got - ref);
            if (!(d <= 1e-5 * scale + 1e-30)) ok = 0;
            if (!(d <= maxabs)) maxabs = d;
            double rel = d / fmax(fabs(ref), 1e-3);
            if (!(rel <= maxrel)) maxrel = rel;
            double w = d / fmax(scale, 1e-30);
            if (!(w <= worst)) worst = w;
        }
        for (int64_t j = N; j < ldc && i * ldc + j < M * ldc; j++) {
            if (C[i * ldc + j] != SENTINEL) { ok = 0; printf("wrote C[%lld][%lld] past N\n", (long long)i, (long long)j); }
        }
    }
    printf("%s %-24s M=%-5lld N=%-5lld K=%-5lld pad=%lld threads=%d %-6s max_abs=%.3g max_rel=%.3g err/scale=%.3g\n",
           ok ? "OK  " : "FAIL", k->name, (long long)M, (long long)N, (long long)K, (long long)pad, threads, pname,
           maxabs, maxrel, worst);
    free(A); free(B); free(C); free(bias); free(R); free(ws);
    return ok;
}

static int run_checks(void) {
    static const int64_t shapes[][3] = {
        {1, 1, 1}, {1, 17, 5}, {5, 3, 1}, {6, 16, 8}, {6, 32, 8}, {7, 19, 13}, {13, 33, 517}, {1, 384, 384},
        {241, 35, 70}, {37, 4100, 9}, {2000, 3, 40}, {3, 2000, 40}, {500, 7, 700}, {97, 130, 1030},
        {128, 384, 384}, {4096, 384, 384}, {4096, 1536, 384}, {4096, 384, 1536}, {3, 5, 0},
    };
    int nshapes = (int)(sizeof shapes / sizeof shapes[0]);
    int failed = 0, cases = 0;
    for (int s = 0; s < nshapes; s++) {
        const int64_t *d = shapes[s];
        int big = d[0] * d[1] * d[2] > 50000000;
        failed += !check(&kernels[0], d[0], d[1], d[2], 0, 1, NULL, "none");
        cases++;
        if (!big) {
            failed += !check(&kernels[0], d[0], d[1], d[2], 3, 3, serial_pfor, "serial");
            failed += !check(&kernels[0], d[0], d[1], d[2], 1, 2, thread_pfor, "thread");
            cases += 2;
        }
    }
    for (int kk = 1; kk < NKERNELS; kk++) {
        for (int s = 0; s < nshapes; s++) {
            const int64_t *d = shapes[s];
            if (d[0] * d[1] * d[2] > 5000000) continue;
            failed += !check(&kernels[kk], d[0], d[1], d[2], s % 3, 1 + s % 3, s % 2 ? serial_pfor : thread_pfor,
                             s % 2 ? "serial" : "thread");
            cases++;
        }
    }
    printf("%d cases, %d failed\n", cases, failed);
    return failed == 0 ? 0 : 1;
}

static double gflops(gemm_fn f, int64_t M, int64_t N, int64_t K, int threads) {
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N), *C = malloc(sizeof(float) * M * N);
    for (int64_t i = 0; i < M * K; i++) A[i] = next_float();
    for (int64_t i = 0; i < K * N; i++) B[i] = next_float();
    void *ws = aligned_alloc(64, (size_t)((workspace_bytes(M, N, K, threads) + 63) / 64 * 64));
    pfor_fn pfor = threads > 1 ? thread_pfor : NULL;
    f(M, N, K, A, K, B, N, C, N, NULL, NULL, 0, ws, pfor, threads);
    double best = 1e30, total = 0;
    int reps = 0;
    while (reps < 3 || (total < 1.0 && reps < 50)) {
        double t0 = now();
        f(M, N, K, A, K, B, N, C, N, NULL, NULL, 0, ws, pfor, threads);
        double t = now() - t0;
        total += t;
        reps++;
        if (t < best) best = t;
    }
    free(A); free(B); free(C); free(ws);
    return 2.0 * M * N * K / best / 1e9;
}

static int run_bench(const char *peak_path) {
    void *peak = dlopen(peak_path, RTLD_NOW | RTLD_LOCAL);
    if (!peak) { fprintf(stderr, "dlopen %s: %s\n", peak_path, dlerror()); return 2; }
    float (*fma_peak)(int64_t) = (float (*)(int64_t))load(peak, "fma_peak");
    int64_t (*per_iter)(void) = (int64_t (*)(void))load(peak, "fma_peak_flops_per_iteration");
    fma_peak(1000000);
    double best = 1e30;
    int64_t iters = 50000000;
    float sink = 0;
    for (int r = 0; r < 5; r++) {
        double t0 = now();
        sink += fma_peak(iters);
        double t = now() - t0;
        if (t < best) best = t;
    }
    double peak_gflops = (double)per_iter() * iters / best / 1e9;
    printf("fma_peak 1 thread: %.1f GFLOP/s (sink %g)\n", peak_gflops, sink);
    static const int64_t shapes[][3] = {{1024, 1024, 1024}, {4096, 384, 384}, {4096, 1536, 384}, {4096, 384, 1536}};
    for (int s = 0; s < 4; s++) {
        for (int threads = 1; threads <= 2; threads++) {
            double g = gflops(kernels[0].f, shapes[s][0], shapes[s][1], shapes[s][2], threads);
            printf("gemm M=%lld N=%lld K=%lld threads=%d: %.1f GFLOP/s = %.0f %% of the 1-thread peak x %d\n",
                   (long long)shapes[s][0], (long long)shapes[s][1], (long long)shapes[s][2], threads, g,
                   100.0 * g / (peak_gflops * threads), threads);
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: gemm_driver check|ws|bench LIB.so ...\n"); return 2; }
    void *lib = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
    if (!lib) { fprintf(stderr, "dlopen %s: %s\n", argv[2], dlerror()); return 2; }
    workspace_bytes = (ws_fn)load(lib, "gemm_workspace_bytes");
    kernels[0].f = (gemm_fn)load(lib, "gemm");
    if (strcmp(argv[1], "ws") == 0 && argc == 7) {
        printf("%lld\n", (long long)workspace_bytes(atoll(argv[3]), atoll(argv[4]), atoll(argv[5]), atoi(argv[6])));
        return 0;
    }
    if (strcmp(argv[1], "bench") == 0 && argc == 4) return run_bench(argv[3]);
    if (strcmp(argv[1], "check") != 0) { fprintf(stderr, "unknown mode %s\n", argv[1]); return 2; }
    for (int k = 0; k < NKERNELS; k++) {
        char ws_name[128];
        snprintf(ws_name, sizeof ws_name, "%s_workspace_bytes", kernels[k].name);
        kernels[k].f = (gemm_fn)load(lib, kernels[k].name);
        kernels[k].ws = (ws_fn)load(lib, ws_name);
    }
    return run_checks();
}
