/*
 * The JNI shim of the NNVM runtime: the native methods of
 * dev.nnvm.runtime.nativeio.Natives. Every function trusts its arguments:
 * the Java side validates them (non-null, in bounds, not closed) before it
 * calls in. Failures reported by the system become NativeExceptions carrying
 * its text (strerror, dlerror).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <jni.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev_nnvm_runtime_nativeio_Natives.h"
#include "nnvm_runtime.h"

static void throw_native(JNIEnv* env, const char* what, const char* detail) {
  char message[1024];
  /* Formatted first: detail may be dlerror's buffer, which class loading can overwrite. */
  snprintf(message, sizeof message, "%s: %s", what, detail != NULL ? detail : "no detail from the system");
  jclass type = (*env)->FindClass(env, "dev/nnvm/runtime/nativeio/NativeException");
  if (type != NULL) {
    (*env)->ThrowNew(env, type, message);
  }
}

static void* pointer(jlong address) {
  return (void*) (intptr_t) address;
}

static jlong address(const void* pointer) {
  return (jlong) (intptr_t) pointer;
}

JNIEXPORT jlong JNICALL Java_dev_nnvm_runtime_nativeio_Natives_allocate(
    JNIEnv* env, jclass cls, jlong bytes, jlong alignment) {
  void* memory = NULL;
  int rc = posix_memalign(&memory, (size_t) alignment, bytes > 0 ? (size_t) bytes : 1);
  if (rc != 0) {
    char detail[256];
    snprintf(detail, sizeof detail, "%lld bytes aligned to %lld: %s", (long long) bytes, (long long) alignment,
        strerror(rc));
    throw_native(env, "posix_memalign failed", detail);
    return 0;
  }
  return address(memory);
}

JNIEXPORT void JNICALL Java_dev_nnvm_runtime_nativeio_Natives_free(JNIEnv* env, jclass cls, jlong memory) {
  free(pointer(memory));
}

JNIEXPORT void JNICALL Java_dev_nnvm_runtime_nativeio_Natives_copyFromArray(
    JNIEnv* env, jclass cls, jobject array, jlong byte_offset, jlong destination, jlong bytes) {
  if (bytes == 0) {
    return;
  }
  char* elements = (char*) (*env)->GetPrimitiveArrayCritical(env, (jarray) array, NULL);
  if (elements == NULL) {
    return; /* the JVM has thrown OutOfMemoryError */
  }
  memcpy(pointer(destination), elements + byte_offset, (size_t) bytes);
  (*env)->ReleasePrimitiveArrayCritical(env, (jarray) array, elements, JNI_ABORT);
}

JNIEXPORT void JNICALL Java_dev_nnvm_runtime_nativeio_Natives_copyToArray(
    JNIEnv* env, jclass cls, jlong source, jobject array, jlong byte_offset, jlong bytes) {
  if (bytes == 0) {
    return;
  }
  char* elements = (char*) (*env)->GetPrimitiveArrayCritical(env, (jarray) array, NULL);
  if (elements == NULL) {
    return; /* the JVM has thrown OutOfMemoryError */
  }
  memcpy(elements + byte_offset, pointer(source), (size_t) bytes);
  (*env)->ReleasePrimitiveArrayCritical(env, (jarray) array, elements, 0);
}

JNIEXPORT void JNICALL Java_dev_nnvm_runtime_nativeio_Natives_copy(
    JNIEnv* env, jclass cls, jlong source, jlong destination, jlong bytes) {
  if (bytes > 0) {
    memmove(pointer(destination), pointer(source), (size_t) bytes);
  }
}

JNIEXPORT void JNICALL Java_dev_nnvm_runtime_nativeio_Natives_fill(
    JNIEnv* env, jclass cls, jlong destination, jlong bytes, jint value) {
  if (bytes > 0) {
    memset(pointer(destination), value, (size_t) bytes);
  }
}

JNIEXPORT jlong JNICALL Java_dev_nnvm_runtime_nativeio_Natives_dlopen(JNIEnv* env, jclass cls, jstring path) {
  const char* file = (*env)->GetStringUTFChars(env, path, NULL);
  if (file == NULL) {
    return 0;
  }
  dlerror();
  void* handle = dlopen(file, RTLD_NOW | RTLD_LOCAL);
  (*env)->ReleaseStringUTFChars(env, path, file);
  if (handle == NULL) {
    throw_native(env, "dlopen failed", dlerror());
    return 0;
  }
  return address(handle);
}

JNIEXPORT jlong JNICALL Java_dev_nnvm_runtime_nativeio_Natives_dlsym(
    JNIEnv* env, jclass cls, jlong handle, jstring name) {
  const char* symbol = (*env)->GetStringUTFChars(env, name, NULL);
  if (symbol == NULL) {
    return 0;
  }
  dlerror();
  void* found = dlsym(pointer(handle), symbol);
  const char* error = dlerror();
  (*env)->ReleaseStringUTFChars(env, name, symbol);
  if (error != NULL) {
    throw_native(env, "dlsym failed", error);
    return 0;
  }
  if (found == NULL) {
    throw_native(env, "dlsym failed", "the symbol's value is NULL");
    return 0;
  }
  return address(found);
}

JNIEXPORT void JNICALL Java_dev_nnvm_runtime_nativeio_Natives_dlclose(JNIEnv* env, jclass cls, jlong handle) {
  dlerror();
  if (dlclose(pointer(handle)) != 0) {
    throw_native(env, "dlclose failed", dlerror());
  }
}

JNIEXPORT jobject JNICALL Java_dev_nnvm_runtime_nativeio_Natives_view(
    JNIEnv* env, jclass cls, jlong memory, jint bytes) {
  return (*env)->NewDirectByteBuffer(env, pointer(memory), bytes);
}

JNIEXPORT jintArray JNICALL Java_dev_nnvm_runtime_nativeio_Natives_callLayout(JNIEnv* env, jclass cls) {
  const jint layout[] = {
    NNVM_MODEL_ABI_VERSION,
    (jint) sizeof(nnvm_call),
    (jint) offsetof(nnvm_call, inputs),
    (jint) offsetof(nnvm_call, outputs),
    (jint) offsetof(nnvm_call, workspace),
    (jint) offsetof(nnvm_call, weights),
    (jint) offsetof(nnvm_call, symbols),
    (jint) offsetof(nnvm_call, num_threads),
    (jint) offsetof(nnvm_call, parallel_for),
    (jint) offsetof(nnvm_call, error),
    (jint) offsetof(nnvm_call, error_capacity),
  };
  jsize count = (jsize) (sizeof layout / sizeof layout[0]);
  jintArray result = (*env)->NewIntArray(env, count);
  if (result != NULL) {
    (*env)->SetIntArrayRegion(env, result, 0, count, layout);
  }
  return result;
}

JNIEXPORT jlong JNICALL Java_dev_nnvm_runtime_nativeio_Natives_parallelForAddress(JNIEnv* env, jclass cls) {
  return (jlong) (intptr_t) &nnvm_parallel_for;
}

JNIEXPORT jint JNICALL Java_dev_nnvm_runtime_nativeio_Natives_invoke(
    JNIEnv* env, jclass cls, jlong entry, jlong call) {
  nnvm_entry function = (nnvm_entry) pointer(entry);
  return function((const nnvm_call*) pointer(call));
}

JNIEXPORT void JNICALL Java_dev_nnvm_runtime_nativeio_Natives_setMaxThreads(
    JNIEnv* env, jclass cls, jint max_threads) {
  nnvm_pool_set_max_threads(max_threads);
}

JNIEXPORT jint JNICALL Java_dev_nnvm_runtime_nativeio_Natives_maxThreads(JNIEnv* env, jclass cls) {
  return nnvm_pool_max_threads();
}

JNIEXPORT jint JNICALL Java_dev_nnvm_runtime_nativeio_Natives_poolWorkers(JNIEnv* env, jclass cls) {
  return nnvm_pool_workers();
}

/*
 * CPUID and XGETBV, the second source of CPU features next to /proc/cpuinfo (which a
 * container may lack and a kernel or hypervisor may edit). Null off x86-64.
 */
#if defined(__x86_64__)
#include <cpuid.h>
#endif

JNIEXPORT jintArray JNICALL Java_dev_nnvm_runtime_nativeio_Natives_cpuid(
    JNIEnv* env, jclass cls, jint leaf, jint subleaf) {
#if defined(__x86_64__)
  unsigned int r[4] = {0, 0, 0, 0};
  unsigned int max = __get_cpuid_max((unsigned int) leaf & 0x80000000u, NULL);
  if ((unsigned int) leaf > max) {
    return NULL;
  }
  __cpuid_count((unsigned int) leaf, (unsigned int) subleaf, r[0], r[1], r[2], r[3]);
  jintArray out = (*env)->NewIntArray(env, 4);
  if (out != NULL) {
    (*env)->SetIntArrayRegion(env, out, 0, 4, (const jint*) r);
  }
  return out;
#else
  (void) env; (void) cls; (void) leaf; (void) subleaf;
  return NULL;
#endif
}

JNIEXPORT jlong JNICALL Java_dev_nnvm_runtime_nativeio_Natives_xgetbv(JNIEnv* env, jclass cls) {
  (void) env; (void) cls;
#if defined(__x86_64__)
  unsigned int eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27))) {
    return -1; /* no OSXSAVE: the OS saves no extended state, so no AVX at all */
  }
  unsigned int lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (jlong) (((unsigned long long) hi << 32) | lo);
#else
  return -1;
#endif
}
