import { getEventListeners } from "node:events";
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import { describe, expect, it, vi } from "vitest";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import {
  clientGoneFromSignal,
  createLazyHandlerContext,
  type LazyHandlerContextInit,
} from "../../src/rest/lazy-handler-context.js";

type InitOverrides = Partial<LazyHandlerContextInit> & { requestSignal?: () => AbortSignal };

function init(overrides: InitOverrides = {}): LazyHandlerContextInit {
  const { requestSignal, ...rest } = overrides;
  return {
    method: KmsAdminService.method.describeKey,
    protocolName: "rest",
    requestMethod: "GET",
    url: () => "http://127.0.0.1:9000/rustfs/admin/v3/kms/keys/abc",
    onClientGone: clientGoneFromSignal(requestSignal ?? (() => new AbortController().signal)),
    requestHeader: () => new Headers({ "x-trace": "t1" }),
    contextValues: createContextValues(),
    ...rest,
  };
}

describe("createLazyHandlerContext", () => {
  it("describes the call like connect's handler context", () => {
    const { context } = createLazyHandlerContext(init());
    expect(context.method).toBe(KmsAdminService.method.describeKey);
    expect(context.service).toBe(KmsAdminService);
    expect(context.protocolName).toBe("rest");
    expect(context.requestMethod).toBe("GET");
    expect(context.requestHeader.get("x-trace")).toBe("t1");
    expect(context.timeoutMs()).toBeUndefined();
  });

  it("starts its response headers and trailers from the protocol's own", () => {
    const call = createLazyHandlerContext(
      init({
        responseHeader: { "content-type": "application/grpc" },
        responseTrailer: { "grpc-status": "0" },
      }),
    );
    expect(call.context.responseHeader.get("content-type")).toBe("application/grpc");
    expect(call.context.responseTrailer.get("grpc-status")).toBe("0");
    expect(call.touchedResponseTrailer()?.get("grpc-status")).toBe("0");
  });

  it("aborts with Canceled when the client goes away without a reason", () => {
    let gone: ((reason?: unknown) => void) | undefined;
    const { context } = createLazyHandlerContext(
      init({
        onClientGone: (listener) => {
          gone = listener;
          return () => {};
        },
      }),
    );
    const signal = context.signal;
    gone?.();
    expect((signal.reason as ConnectError).code).toBe(Code.Canceled);
  });

  it("adds no listener to the client's signal until the handler reads its own", () => {
    const client = new AbortController();
    const call = createLazyHandlerContext(init({ requestSignal: () => client.signal }));
    expect(getEventListeners(client.signal, "abort")).toHaveLength(0);
    const signal = call.context.signal;
    expect(getEventListeners(client.signal, "abort")).toHaveLength(1);
    expect(call.context.signal).toBe(signal);
    call.end();
    expect(getEventListeners(client.signal, "abort")).toHaveLength(0);
  });

  it("does not ask for the client's signal until the handler reads its own", () => {
    const client = new AbortController();
    const requestSignal = vi.fn(() => client.signal);
    const call = createLazyHandlerContext(init({ requestSignal }));
    call.end();
    expect(requestSignal).not.toHaveBeenCalled();
  });

  it("aborts the handler's signal with the client's reason when the client goes away", () => {
    const client = new AbortController();
    const { context } = createLazyHandlerContext(init({ requestSignal: () => client.signal }));
    const signal = context.signal;
    expect(signal.aborted).toBe(false);
    const reason = new Error("gone");
    client.abort(reason);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);
  });

  it("hands out an aborted signal when the client is already gone", () => {
    const client = new AbortController();
    client.abort(new Error("gone before"));
    const { context } = createLazyHandlerContext(init({ requestSignal: () => client.signal }));
    expect(context.signal.aborted).toBe(true);
    expect((context.signal.reason as Error).message).toBe("gone before");
  });

  it("aborts the handler's signal once the call has ended, read before or after", () => {
    const during = createLazyHandlerContext(init());
    const signal = during.context.signal;
    during.end();
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(ConnectError);
    expect((signal.reason as ConnectError).code).toBe(Code.Canceled);

    const after = createLazyHandlerContext(init());
    after.end();
    expect(after.context.signal.aborted).toBe(true);
  });

  it("aborts with DeadlineExceeded at the deadline", async () => {
    vi.useFakeTimers();
    try {
      const { context, end } = createLazyHandlerContext(init({ timeoutMs: 50 }));
      expect(context.timeoutMs()).toBeLessThanOrEqual(50);
      const signal = context.signal;
      await vi.advanceTimersByTimeAsync(49);
      expect(signal.aborted).toBe(false);
      await vi.advanceTimersByTimeAsync(2);
      expect(signal.aborted).toBe(true);
      expect((signal.reason as ConnectError).code).toBe(Code.DeadlineExceeded);
      end();
    } finally {
      vi.useRealTimers();
    }
  });

  it("counts the deadline from creation even when the signal is read late", async () => {
    vi.useFakeTimers();
    try {
      const { context } = createLazyHandlerContext(init({ timeoutMs: 50 }));
      await vi.advanceTimersByTimeAsync(60);
      expect(context.signal.aborted).toBe(true);
      expect((context.signal.reason as ConnectError).code).toBe(Code.DeadlineExceeded);
    } finally {
      vi.useRealTimers();
    }
  });

  it("builds response headers and the URL only when the handler uses them", () => {
    const url = vi.fn(() => "http://h/x");
    const call = createLazyHandlerContext(init({ url }));
    expect(call.touchedResponseHeader()).toBeUndefined();
    call.context.responseHeader.set("x-note", "n");
    expect(call.touchedResponseHeader()?.get("x-note")).toBe("n");
    expect(url).not.toHaveBeenCalled();
    expect(call.context.url).toBe("http://h/x");
    expect(call.context.url).toBe("http://h/x");
    expect(url).toHaveBeenCalledTimes(1);
  });

  it("reads the request headers once, when the handler does, and gives it a copy", () => {
    const original = new Headers({ "x-trace": "t1" });
    const requestHeader = vi.fn(() => original);
    const { context } = createLazyHandlerContext(init({ requestHeader }));
    expect(requestHeader).not.toHaveBeenCalled();
    context.requestHeader.set("x-trace", "changed");
    expect(context.requestHeader.get("x-trace")).toBe("changed");
    expect(original.get("x-trace")).toBe("t1");
    expect(requestHeader).toHaveBeenCalledTimes(1);
  });
});
