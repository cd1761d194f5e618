import { randomBytes } from "node:crypto";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../../gen/grpc/health/v1/health_pb.js";
import { KmsAdminService } from "../../gen/kms/admin/v1/service_pb.js";
import { type GatewayProcess, startGateway } from "../helpers/gateway-process.js";
import { signedFetch } from "../helpers/signed-fetch.js";

// Issue 5, item 8 (readiness): /health and gRPC health said SERVING while every key
// call was 503. /health stays liveness; /ready and gRPC health for the KMS service
// follow whether the KMS is Running.

const api = "/rustfs/admin/v3/kms";
let gw: GatewayProcess;
let health: ReturnType<typeof createClient<typeof Health>>;

beforeAll(async () => {
  gw = await startGateway({ args: ["--kms-backend", "none"] });
  health = createClient(Health, createGrpcTransport({ baseUrl: gw.url }));
});
afterAll(async () => {
  await gw?.stop();
});

async function ready(): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${gw.url}/ready`);
  return { status: response.status, body: await response.json() };
}

async function kmsServing(): Promise<ServingStatus> {
  return (await health.check({ service: KmsAdminService.typeName })).status;
}

describe("readiness follows the KMS status; liveness does not", () => {
  it("is not ready while NotConfigured, then Configured, and ready once Running", async () => {
    // Readiness answers are cached for up to a second, hence the polls after each change.
    expect(await ready()).toEqual({
      status: 503,
      body: { status: "NotConfigured", ready: false },
    });
    expect(await kmsServing()).toBe(ServingStatus.NOT_SERVING);
    // Liveness: the process answers.
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
    expect((await health.check({ service: "" })).status).toBe(ServingStatus.SERVING);

    const configure = await signedFetch(gw.url, "POST", `${api}/configure`, {
      body: JSON.stringify({
        backend_type: "local",
        master_key: randomBytes(32).toString("base64"),
      }),
    });
    expect(configure.status).toBe(200);
    await expect.poll(ready, { timeout: 5_000 }).toEqual({
      status: 503,
      body: { status: "Configured", ready: false },
    });
    expect(await kmsServing()).toBe(ServingStatus.NOT_SERVING);

    expect((await signedFetch(gw.url, "POST", `${api}/start`)).status).toBe(200);
    await expect.poll(ready, { timeout: 5_000 }).toEqual({
      status: 200,
      body: { status: "Running", ready: true },
    });
    expect(await kmsServing()).toBe(ServingStatus.SERVING);

    expect((await signedFetch(gw.url, "POST", `${api}/stop`)).status).toBe(200);
    await expect.poll(kmsServing, { timeout: 5_000 }).toBe(ServingStatus.NOT_SERVING);
    expect((await ready()).status).toBe(503);
  });

  it("answers only GET and HEAD on /ready", async () => {
    const response = await fetch(`${gw.url}/ready`, { method: "POST" });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, HEAD");
  });
});
