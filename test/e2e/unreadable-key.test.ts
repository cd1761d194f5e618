import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { newDataDir, startGateway } from "../helpers/gateway-process.js";
import { signedFetch } from "../helpers/signed-fetch.js";

// A corrupt key file (a disk error, a bad restore) affects that key only:
// the others still list, describe and decrypt, and the bad one answers 500
// with a generic message that leaks nothing of the file.

const api = "/rustfs/admin/v3/kms";

describe("an unreadable key file", () => {
  it("is left out of listings and fails only its own calls", async () => {
    const dataDir = newDataDir();
    let gw = await startGateway({ dataDir });
    try {
      for (const name of ["alpha", "bravo", "charlie"]) {
        const res = await signedFetch(gw.url, "POST", `${api}/keys`, {
          body: JSON.stringify({ Tags: { name } }),
        });
        expect(res.status).toBe(200);
      }
      await gw.stop();
      writeFileSync(join(dataDir, "keys", "bravo.key.json"), "{ not json");
      gw = await startGateway({ dataDir });

      const list = await signedFetch(gw.url, "GET", `${api}/keys`);
      expect(list.status).toBe(200);
      const page = list.json as { keys: { key_id: string }[]; unreadable_key_ids: string[] };
      expect(page.keys.map((k) => k.key_id)).toEqual(["alpha", "charlie"]);
      // Named, so an operator (and RustFS's console) sees the key exists but cannot be read.
      expect(page.unreadable_key_ids).toEqual(["bravo"]);
      const bad = await signedFetch(gw.url, "GET", `${api}/keys/bravo`);
      expect(bad.status).toBe(500);
      expect(bad.json).toMatchObject({ code: "InternalError" });
      expect(bad.text).not.toContain("not json");
      expect((await signedFetch(gw.url, "GET", `${api}/keys/charlie`)).status).toBe(200);
      expect(gw.logLines.join("\n")).toContain("listing skipped an unreadable key");
      // A page without one still carries the field, empty.
      const clean = await signedFetch(gw.url, "GET", `${api}/keys`, { query: { marker: "bravo" } });
      expect(clean.json).toMatchObject({ unreadable_key_ids: [] });
    } finally {
      await gw.stop();
    }
  });
});
