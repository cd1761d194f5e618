import type { DescMessage } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { describe, expect, it } from "vitest";
import { file_kms_admin_v1_service } from "../../gen/kms/admin/v1/service_pb.js";
import { file_kms_admin_v1_types } from "../../gen/kms/admin/v1/types_pb.js";

// Issue 5 item 14: protoc before 22 (and Debian's python protobuf) refuse a
// proto3 message in which two fields have the same default JSON name compared
// case-insensitively without underscores (`app_role` vs `approle`). Every
// message of our contract must load there. Custom JSON names only need to be
// distinct as written: the documented shapes want both `token` and `Token`.

const messages: DescMessage[] = [file_kms_admin_v1_service, file_kms_admin_v1_types].flatMap(
  (file) => [...nestedTypes(file)].filter((t): t is DescMessage => t.kind === "message"),
);

/** legacyJsonKey is how protoc < 22 compared field names for JSON conflicts. */
function legacyJsonKey(name: string): string {
  return name.replaceAll("_", "").toLowerCase();
}

describe("JSON names of the kms.admin.v1 messages", () => {
  it("covers every message of the contract", () => {
    expect(messages.map((m) => m.typeName)).toContain("kms.admin.v1.AuthMethod");
    expect(messages.length).toBeGreaterThan(20);
  });

  it.each(messages.map((m) => [m.typeName, m] as const))(
    "%s has distinct legacy and custom JSON names",
    (_, message) => {
      const legacy = message.fields.map((f) => legacyJsonKey(f.name));
      expect(new Set(legacy).size, legacy.join(",")).toBe(legacy.length);
      const json = message.fields.map((f) => f.jsonName);
      expect(new Set(json).size, json.join(",")).toBe(json.length);
    },
  );

  it("keeps the RustFS spelling AppRole on the wire as field 4", () => {
    const auth = messages.find((m) => m.typeName === "kms.admin.v1.AuthMethod");
    const field = auth?.fields.find((f) => f.number === 4);
    expect(field?.jsonName).toBe("AppRole");
  });
});
