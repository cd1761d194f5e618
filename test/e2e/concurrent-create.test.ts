import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isTempFileName } from "../../src/backends/local/write-file-atomic.js";
import { useGateway } from "../helpers/gateway-process.js";
import { signedFetch } from "../helpers/signed-fetch.js";

const api = "/rustfs/admin/v3/kms";

describe("concurrent creates of one name", () => {
  const gw = useGateway();

  it("exactly one of 16 wins; the other 15 get 409 and the winner's key is intact", async () => {
    const answers = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        signedFetch(gw.url, "POST", `${api}/keys`, {
          body: JSON.stringify({ Description: `racer ${i}`, Tags: { name: "contested" } }),
        }),
      ),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, ...Array(15).fill(409)]);
    for (const lost of answers.filter((a) => a.status === 409)) {
      expect(lost.json).toMatchObject({ code: "Conflict" });
    }
    const winner = answers.find((a) => a.status === 200)?.json as {
      key_metadata: { description: string };
    };
    const described = await signedFetch(gw.url, "GET", `${api}/keys/contested`);
    expect(described.status).toBe(200);
    // The stored key is the winner's, not a loser's that overwrote it.
    expect(described.json).toMatchObject({
      key_metadata: { description: winner.key_metadata.description },
    });
    const keyDir = join(gw.dataDir, "keys");
    expect(readdirSync(keyDir).filter((name) => name.startsWith("contested"))).toEqual([
      "contested.key.json",
    ]);
    expect(readdirSync(keyDir).filter(isTempFileName)).toEqual([]);
  });
});
