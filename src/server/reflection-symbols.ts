import type { DescFile } from "@bufbuild/protobuf";
import type { DescriptorProto, EnumDescriptorProto } from "@bufbuild/protobuf/wkt";

/**
 * indexSymbols maps every fully-qualified name declared in `files` to its file:
 * messages (map entries included), fields, oneofs, enums, enum values (which
 * live beside their enum, as in protobuf scoping), extensions, services and
 * methods. It reads the FileDescriptorProtos rather than the runtime
 * descriptors, which leave out map entries and have no methods or values as
 * registry entries.
 */
export function indexSymbols(files: Iterable<DescFile>): Map<string, DescFile> {
  const index = new Map<string, DescFile>();
  for (const file of files) {
    const add = (name: string) => index.set(name, file);
    const addEnum = (e: EnumDescriptorProto, scope: string) => {
      add(scope + e.name);
      for (const value of e.value) add(scope + value.name);
    };
    const addMessage = (m: DescriptorProto, scope: string) => {
      const name = scope + m.name;
      add(name);
      for (const member of [...m.field, ...m.oneofDecl, ...m.extension])
        add(`${name}.${member.name}`);
      for (const e of m.enumType) addEnum(e, `${name}.`);
      for (const nested of m.nestedType) addMessage(nested, `${name}.`);
    };
    const scope = file.proto.package ? `${file.proto.package}.` : "";
    for (const m of file.proto.messageType) addMessage(m, scope);
    for (const e of file.proto.enumType) addEnum(e, scope);
    for (const x of file.proto.extension) add(scope + x.name);
    for (const s of file.proto.service) {
      add(scope + s.name);
      for (const method of s.method) add(`${scope}${s.name}.${method.name}`);
    }
  }
  return index;
}
