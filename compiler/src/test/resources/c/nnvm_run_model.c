/*
 * Runs one call of a compiled model's shared library without a JVM: the
 * driver Aarch64CrossCompileTest builds with aarch64-linux-gnu-gcc and runs
 * under qemu-aarch64, to check the aarch64 variant of an artifact against the
 * x86-64 one the Java runtime runs. It fills an nnvm_call as the runtime's
 * shim does, with a parallel_for that runs the whole range on the calling
 * thread (the ABI allows any split into ranges), and 64-byte aligned
 * weights and workspace.
 *
 * usage: nnvm_run_model LIBRARY ENTRY WEIGHTS|- WORKSPACE_BYTES
 *            NSYM SYM... NIN IN_FILE... NOUT OUT_FILE OUT_BYTES ...
 * Inputs and outputs are dense little-endian tensors in manifest order, read
 * from and written to files. Exit status 0 on success; on failure a line on
 * stderr (the model's message when the entry point fails).
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnvm_model_abi.h"

static void serial_parallel_for(int64_t n, nnvm_task task, void* ctx, int32_t threads) {
  (void) threads;
  if (n > 0) {
    task(0, n, ctx);
  }
}

/* size bytes, 64-byte aligned, at least 64 (the model may rely on the alignment only). */
static void* aligned(size_t size) {
  void* p = NULL;
  size_t rounded = (size + 63) / 64 * 64;
  if (posix_memalign(&p, 64, rounded == 0 ? 64 : rounded) != 0) {
    fprintf(stderr, "cannot allocate %zu bytes\n", size);
    exit(3);
  }
  memset(p, 0, rounded == 0 ? 64 : rounded);
  return p;
}

static void* read_file(const char* path) {
  FILE* f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "cannot open %s\n", path);
    exit(3);
  }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  void* data = aligned((size_t) size);
  if (size > 0 && fread(data, 1, (size_t) size, f) != (size_t) size) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(3);
  }
  fclose(f);
  return data;
}

static long count(char** argv, int argc, int* i) {
  if (*i >= argc) {
    fprintf(stderr, "missing arguments\n");
    exit(2);
  }
  return strtol(argv[(*i)++], NULL, 10);
}

int main(int argc, char** argv) {
  if (argc < 8) {
    fprintf(stderr, "usage: %s LIBRARY ENTRY WEIGHTS|- WORKSPACE_BYTES NSYM SYM... NIN IN... NOUT OUT BYTES...\n",
            argv[0]);
    return 2;
  }
  void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 3;
  }
  nnvm_entry entry = (nnvm_entry) dlsym(lib, argv[2]);
  if (entry == NULL) {
    fprintf(stderr, "dlsym %s: %s\n", argv[2], dlerror());
    return 3;
  }
  const void* weights = strcmp(argv[3], "-") == 0 ? NULL : read_file(argv[3]);
  long workspace_bytes = strtol(argv[4], NULL, 10);
  void* workspace = workspace_bytes > 0 ? aligned((size_t) workspace_bytes) : NULL;
  int i = 5;
  long nsym = count(argv, argc, &i);
  int64_t* symbols = calloc((size_t) nsym + 1, sizeof(int64_t));
  for (long s = 0; s < nsym; s++) {
    symbols[s] = count(argv, argc, &i);
  }
  long nin = count(argv, argc, &i);
  const void** inputs = calloc((size_t) nin + 1, sizeof(void*));
  for (long k = 0; k < nin; k++) {
    if (i >= argc) {
      fprintf(stderr, "missing input files\n");
      return 2;
    }
    inputs[k] = read_file(argv[i++]);
  }
  long nout = count(argv, argc, &i);
  void** outputs = calloc((size_t) nout + 1, sizeof(void*));
  const char** out_files = calloc((size_t) nout + 1, sizeof(char*));
  long* out_bytes = calloc((size_t) nout + 1, sizeof(long));
  for (long k = 0; k < nout; k++) {
    if (i + 1 >= argc) {
      fprintf(stderr, "missing output files\n");
      return 2;
    }
    out_files[k] = argv[i++];
    out_bytes[k] = count(argv, argc, &i);
    outputs[k] = aligned((size_t) out_bytes[k]);
  }
  char error[1024];
  error[0] = '\0';
  nnvm_call call;
  memset(&call, 0, sizeof call);
  call.inputs = inputs;
  call.outputs = outputs;
  call.workspace = workspace;
  call.weights = weights;
  call.symbols = symbols;
  call.num_threads = 1;
  call.parallel_for = serial_parallel_for;
  call.error = error;
  call.error_capacity = (int32_t) sizeof error;
  int32_t status = entry(&call);
  if (status != 0) {
    fprintf(stderr, "%s returned %d: %s\n", argv[2], (int) status, error);
    return 4;
  }
  for (long k = 0; k < nout; k++) {
    FILE* f = fopen(out_files[k], "wb");
    if (f == NULL || fwrite(outputs[k], 1, (size_t) out_bytes[k], f) != (size_t) out_bytes[k] || fclose(f) != 0) {
      fprintf(stderr, "cannot write %s\n", out_files[k]);
      return 3;
    }
  }
  return 0;
}
