import { describe, expect, it } from "vitest";
import { useGateway } from "../helpers/gateway-process.js";
import { signedFetch } from "../helpers/signed-fetch.js";

const P = "/rustfs/admin/v3/kms";

describe("REST answers on the wire", () => {
  const gw = useGateway();

  it("carry a Content-Length equal to the UTF-8 body, never chunked", async () => {
    const description = "clé ✓ 鍵";
    const created = await signedFetch(gw.url, "POST", `${P}/keys`, {
      body: JSON.stringify({ Description: description }),
    });
    expect(created.status).toBe(200);
    const keyId = (created.json as { key_id: string }).key_id;
    const described = await signedFetch(gw.url, "GET", `${P}/keys/${keyId}`);
    expect(described.status).toBe(200);
    expect(described.json).toMatchObject({ key_metadata: { description } });
    for (const answer of [created, described]) {
      expect(answer.headers.get("transfer-encoding")).toBeNull();
      expect(answer.headers.get("content-length")).toBe(
        String(Buffer.byteLength(answer.text, "utf8")),
      );
      expect(answer.headers.get("cache-control")).toBe("no-store");
      expect(answer.headers.get("x-request-id")).toMatch(/^[A-Za-z0-9_-]{16}$/);
    }
  });

  it("frames errors the same way", async () => {
    const refused = await signedFetch(gw.url, "POST", `${P}/generate-data-key`, {
      body: '{"key_id": "no-such-key"}',
    });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.headers.get("content-length")).toBe(String(Buffer.byteLength(refused.text)));
    expect(refused.headers.get("transfer-encoding")).toBeNull();
  });
});
