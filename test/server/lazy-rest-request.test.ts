import { createContextValues } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { createLazyRestRequest } from "../../src/server/lazy-rest-request.js";

function request(headers: () => Headers = () => new Headers({ host: "h" })) {
  return createLazyRestRequest({
    method: "POST",
    rawPath: "/p",
    rawQuery: "a=1",
    headers,
    body: new Uint8Array([1]),
    contextValues: createContextValues(),
  });
}

describe("createLazyRestRequest", () => {
  it("builds the headers only when read, and once", () => {
    let built = 0;
    const req = request(() => {
      built++;
      return new Headers({ host: "example" });
    });
    expect(req.method).toBe("POST");
    expect(req.rawPath).toBe("/p");
    expect(req.rawQuery).toBe("a=1");
    expect(built).toBe(0);
    expect(req.headers.get("host")).toBe("example");
    expect(req.headers).toBe(req.headers);
    expect(built).toBe(1);
  });

  it("aborts a signal read before the client went away", () => {
    const req = request();
    const signal = req.signal;
    expect(signal.aborted).toBe(false);
    req.clientGone();
    expect(signal.aborted).toBe(true);
    expect(req.signal).toBe(signal);
  });

  it("hands out an aborted signal when first read after the client went away", () => {
    const req = request();
    req.clientGone();
    expect(req.signal.aborted).toBe(true);
  });
});
