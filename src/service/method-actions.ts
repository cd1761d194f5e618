import { type DescMethod, type DescService, getOption, hasOption } from "@bufbuild/protobuf";
import { action } from "../../gen/kms/admin/v1/authz_pb.js";

/**
 * methodActionsOf reads each RPC's `(kms.admin.v1.action)` option (proto/kms/admin/v1/authz.proto)
 * into a table from method to action, once at start-up. It throws when an RPC has
 * none or `isAction` refuses its value, so a gateway whose proto and policy
 * language disagree does not start: the table cannot drift from the service.
 */
export function methodActionsOf(
  service: DescService,
  isAction: (name: string) => boolean,
): ReadonlyMap<DescMethod, string> {
  const table = new Map<DescMethod, string>();
  for (const method of service.methods) {
    const name = hasOption(method, action) ? getOption(method, action) : "";
    if (!isAction(name)) {
      throw new Error(
        `${service.typeName}.${method.name} has no valid (kms.admin.v1.action) option (got "${name}")`,
      );
    }
    table.set(method, name);
  }
  return table;
}
