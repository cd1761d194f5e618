import type { Command } from "commander";
import { signSigV4 } from "../auth/sign-sigv4.js";
import type { ClientContext } from "./client-context.js";
import { UsageError } from "./exit-codes.js";

/**
 * addSignCommand adds `sign URL`: it prints SigV4 headers, one `Name: value` per line,
 * for a client that cannot sign, such as `buf curl`:
 *
 *     kms-gateway sign http://127.0.0.1:9000/kms.admin.v1.KmsAdminService/GetStatus \
 *       | buf curl --protocol connect -H @- --data '{}' http://127.0.0.1:9000/kms.admin.v1.KmsAdminService/GetStatus
 *
 * It signs `UNSIGNED-PAYLOAD` (as RPC clients may); the headers are good for 15 minutes.
 */
export function addSignCommand(program: Command, context: () => ClientContext): void {
  program
    .command("sign")
    .description("print SigV4 headers for URL (UNSIGNED-PAYLOAD), e.g. for `buf curl -H @-`")
    .argument("<url>")
    .option("--method <method>", "the HTTP method [POST]", "POST")
    .action((url: string, opts: { method: string }) => {
      const c = context();
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        throw new UsageError(`"${url}" is not a URL`);
      }
      const headers = signSigV4({
        method: opts.method.toUpperCase(),
        url: target,
        payloadHash: "UNSIGNED-PAYLOAD",
        accessKey: c.accessKey,
        secretKey: c.secretKey,
        service: "kms",
      });
      for (const [name, value] of Object.entries(headers)) c.out.line(`${name}: ${value}`);
    });
}
