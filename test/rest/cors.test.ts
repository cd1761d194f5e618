import { describe, expect, it } from "vitest";
import { createCors, parseCorsOrigin } from "../../src/rest/cors.js";

/** recorder is a response that keeps what CORS wrote to it. */
function recorder() {
  const headers: Record<string, string> = {};
  const state = { status: 0, ended: false };
  return {
    headers,
    state,
    res: {
      setHeader: (name: string, value: string) => {
        headers[name] = value;
      },
      writeHead: (status: number) => {
        state.status = status;
      },
      end: () => {
        state.ended = true;
      },
    },
  };
}

describe("createCors", () => {
  const cors = createCors(["https://console.example.com", "http://localhost:9001"]);

  it("answers a preflight from an allowed origin with 204 and the SigV4 headers", () => {
    const r = recorder();
    const answered = cors.apply(
      "OPTIONS",
      { origin: "http://localhost:9001", "access-control-request-method": "POST" },
      r.res,
    );
    expect(answered).toBe(true);
    expect(r.state).toEqual({ status: 204, ended: true });
    expect(r.headers["access-control-allow-origin"]).toBe("http://localhost:9001");
    expect(r.headers["access-control-allow-methods"]).toContain("DELETE");
    expect(r.headers["access-control-allow-headers"]).toContain("x-amz-content-sha256");
    expect(r.headers.vary).toBe("Origin");
  });

  it("marks an actual request from an allowed origin and lets it go on", () => {
    const r = recorder();
    expect(cors.apply("GET", { origin: "https://console.example.com" }, r.res)).toBe(false);
    expect(r.headers["access-control-allow-origin"]).toBe("https://console.example.com");
    expect(r.state.status).toBe(0);
  });

  it("writes nothing for another origin, a look-alike, or no origin", () => {
    for (const origin of [
      "https://evil.example",
      "https://console.example.com.evil.example",
      "https://console.example.com/",
      undefined,
    ]) {
      const r = recorder();
      const headers = { origin, "access-control-request-method": "GET" };
      expect(cors.apply("OPTIONS", headers, r.res)).toBe(false);
      expect(r.headers).toEqual({});
    }
  });

  it("treats OPTIONS without Access-Control-Request-Method as an ordinary request", () => {
    const r = recorder();
    expect(cors.apply("OPTIONS", { origin: "http://localhost:9001" }, r.res)).toBe(false);
    expect(r.state.status).toBe(0);
  });
});

describe("parseCorsOrigin", () => {
  it("accepts exact http(s) origins only", () => {
    expect(parseCorsOrigin("https://console.example.com:9001")).toBe(
      "https://console.example.com:9001",
    );
    for (const bad of [
      "*",
      "console.example.com",
      "https://a.example/",
      "https://a.example/x",
      "ftp://a.example",
      "HTTPS://A.EXAMPLE",
    ]) {
      expect(() => parseCorsOrigin(bad)).toThrow(/--cors-origin/);
    }
  });
});
