import type { DescService } from "@bufbuild/protobuf";
import { create, createFileRegistry, setExtension } from "@bufbuild/protobuf";
import type { FieldDescriptorProto } from "@bufbuild/protobuf/wkt";
import {
  FileDescriptorProtoSchema,
  FieldDescriptorProto_Label as Label,
  MethodOptionsSchema,
  FieldDescriptorProto_Type as Type,
} from "@bufbuild/protobuf/wkt";
import { http } from "../../gen/google/api/annotations_pb.js";
import { HttpRuleSchema } from "../../gen/google/api/http_pb.js";

/** HttpRuleInit is what `create(HttpRuleSchema, …)` takes. */
export type HttpRuleInit = Parameters<typeof create<typeof HttpRuleSchema>>[1];

/** SyntheticMethod describes one method of a synthetic service. */
export interface SyntheticMethod {
  name: string;
  serverStreaming?: boolean;
  rule?: HttpRuleInit;
}

function field(
  name: string,
  number: number,
  type: Type,
  extra: Partial<Omit<FieldDescriptorProto, "$typeName">> = {},
) {
  return { name, number, type, label: Label.OPTIONAL, jsonName: name, ...extra };
}

/**
 * syntheticService builds a one-file DescService `t.S` whose methods take
 * `t.Req` and return `t.Res`, with the given google.api.http rules. `t.Req`
 * has fields of the kinds the real proto lacks: `id` string, `flag` bool,
 * `names` repeated string, `count` int32, `inner` message `t.Inner{name}`,
 * `ratio` double, `data` bytes, `items` repeated `t.Inner`, `labels`
 * map<string,string>, `big_num` int64 (JSON name `bigNum`).
 */
export function syntheticService(methods: SyntheticMethod[]): DescService {
  const file = create(FileDescriptorProtoSchema, {
    name: "synthetic.proto",
    package: "t",
    syntax: "proto3",
    messageType: [
      {
        name: "Req",
        field: [
          field("id", 1, Type.STRING),
          field("flag", 2, Type.BOOL),
          field("names", 3, Type.STRING, { label: Label.REPEATED }),
          field("count", 4, Type.INT32),
          field("inner", 5, Type.MESSAGE, { typeName: ".t.Inner" }),
          field("ratio", 6, Type.DOUBLE),
          field("data", 7, Type.BYTES),
          field("items", 8, Type.MESSAGE, { typeName: ".t.Inner", label: Label.REPEATED }),
          field("labels", 9, Type.MESSAGE, {
            typeName: ".t.Req.LabelsEntry",
            label: Label.REPEATED,
          }),
          field("big_num", 10, Type.INT64, { jsonName: "bigNum" }),
        ],
        nestedType: [
          {
            name: "LabelsEntry",
            field: [field("key", 1, Type.STRING), field("value", 2, Type.STRING)],
            options: { mapEntry: true },
          },
        ],
      },
      { name: "Inner", field: [field("name", 1, Type.STRING)] },
      { name: "Res", field: [field("id", 1, Type.STRING)] },
    ],
    service: [
      {
        name: "S",
        method: methods.map(({ name, serverStreaming, rule }) => {
          const options = create(MethodOptionsSchema);
          if (rule !== undefined) {
            setExtension(options, http, create(HttpRuleSchema, rule));
          }
          return {
            name,
            inputType: ".t.Req",
            outputType: ".t.Res",
            serverStreaming: serverStreaming ?? false,
            options,
          };
        }),
      },
    ],
  });
  const service = createFileRegistry(file, () => undefined).getService("t.S");
  if (service === undefined) {
    throw new Error("synthetic service not built");
  }
  return service;
}
