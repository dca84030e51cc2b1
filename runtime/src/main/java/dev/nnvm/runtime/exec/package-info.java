/**
 * Runs compiled models: {@link dev.nnvm.runtime.exec.CompiledModel} is an
 * artifact loaded once per JVM (its native code and its weights shared by
 * every user), {@link dev.nnvm.runtime.exec.Executor} binds inputs and
 * outputs by name and makes one native call per batch, with a workspace of
 * its own. Everything is checked in Java before the native call.
 */
package dev.nnvm.runtime.exec;
