package dev.nnvm.compiler.codegen.llvm;

import java.util.ArrayList;
import java.util.List;

/**
 * The IR text that the generated kernels split into independent tasks share:
 * an exported function that packs its arguments into a context struct and
 * hands {@code count} tasks to {@code parallel_for} (or runs them itself with
 * one thread, no pool or one task), and the task function's prologue that
 * reads the context back. A kernel {@code g} then defines its own
 * {@code @g.task(i64 %b, i64 %e, ptr %ctx)} body after {@link #taskPrologue}.
 */
final class TaskDriver {
  /** One context field: its IR type and the name of the value ({@code %name}) stored and loaded. */
  record Field(String type, String name) {}

  private TaskDriver() {}

  /**
   * {@code %g.ctx} and {@code define void @g(params..., ptr %pfor, i32 %threads)}: runs {@code setup} (IR
   * lines defining the {@code extra} fields, the i1 {@code guard} that says there is work, and the i64
   * task {@code count}), then stores the fields and dispatches the tasks.
   */
  static String entry(String g, String attrs, List<Field> params, List<Field> extra, String setup, String guard,
      String count) {
    List<Field> fields = new ArrayList<>(params);
    fields.addAll(extra);
    StringBuilder s = new StringBuilder();
    s.append('%').append(g).append(".ctx = type { ")
        .append(String.join(", ", fields.stream().map(Field::type).toList())).append(" }\n\n");
    s.append("define void @").append(g).append('(');
    for (Field f : params) {
      s.append(f.type()).append(" %").append(f.name()).append(", ");
    }
    s.append("ptr %pfor, i32 %threads) ").append(attrs).append(" {\nentry:\n");
    s.append("  %ctx = alloca %").append(g).append(".ctx, align 8\n");
    s.append(setup);
    s.append("  br i1 ").append(guard).append(", label %setup, label %done\nsetup:\n");
    for (int i = 0; i < fields.size(); i++) {
      s.append("  %f").append(i).append(" = getelementptr %").append(g).append(".ctx, ptr %ctx, i32 0, i32 ")
          .append(i).append("\n  store ").append(fields.get(i).type()).append(" %").append(fields.get(i).name())
          .append(", ptr %f").append(i).append('\n');
    }
    s.append("  %haspf = icmp ne ptr %pfor, null\n  %many = icmp sgt i32 %threads, 1\n");
    s.append("  %several = icmp sgt i64 ").append(count).append(", 1\n");
    s.append("  %p0 = and i1 %haspf, %many\n  %par = and i1 %p0, %several\n");
    s.append("  br i1 %par, label %pool, label %direct\npool:\n");
    s.append("  call void %pfor(i64 ").append(count).append(", ptr @").append(g).append(".task, ptr %ctx, i32 %threads)\n");
    s.append("  br label %done\ndirect:\n");
    s.append("  call void @").append(g).append(".task(i64 0, i64 ").append(count).append(", ptr %ctx)\n");
    s.append("  br label %done\ndone:\n  ret void\n}\n\n");
    return s.toString();
  }

  /** {@code define internal void @g.task(i64 %b, i64 %e, ptr %ctx)}, its entry block and the fields loaded. */
  static String taskPrologue(String g, String attrs, List<Field> fields) {
    return "define internal void @" + g + ".task(i64 %b, i64 %e, ptr %ctx) " + attrs + " {\nentry:\n"
        + loadFields(g, fields);
  }

  /** Loads every field of {@code %g.ctx} from {@code %ctx} into {@code %name}. */
  static String loadFields(String g, List<Field> fields) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < fields.size(); i++) {
      Field f = fields.get(i);
      s.append("  %g").append(i).append(" = getelementptr %").append(g).append(".ctx, ptr %ctx, i32 0, i32 ")
          .append(i).append("\n  %").append(f.name()).append(" = load ").append(f.type()).append(", ptr %g")
          .append(i).append('\n');
    }
    return s.toString();
  }

  /** Fields from {@code "type name"} pairs. */
  static List<Field> fields(String... typeAndName) {
    List<Field> out = new ArrayList<>();
    for (String f : typeAndName) {
      int space = f.indexOf(' ');
      out.add(new Field(f.substring(0, space), f.substring(space + 1)));
    }
    return out;
  }
}
