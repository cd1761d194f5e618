import { chmodSync, existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  type GatewayExit,
  type GatewayProcess,
  newDataDir,
  runGatewayUntilExit,
  startGateway,
} from "../helpers/gateway-process.js";
import { signedFetch } from "../helpers/signed-fetch.js";

// Start-up and shutdown of real gateway processes (issue 5, items 2, 6, 8, 9
// and 10): one process per data dir and key_dir, a data dir that cannot be
// used stops the start with one line, the port is bound before the state file
// is written, and shutdown ends within its drain deadline.

const api = "/rustfs/admin/v3/kms";
const masterKey = "startup-test-master-key-0123456789abcdef";
const firstStart = { RUSTFS_KMS_LOCAL_MASTER_KEY: masterKey };

/** The JSON log lines of a process, parsed; plain-text lines fail the test. */
function entries(lines: string[]): { level: string; message: string }[] {
  return lines.map((line) => {
    try {
      return JSON.parse(line) as { level: string; message: string };
    } catch {
      throw new Error(`not a JSON log line: ${line}`);
    }
  });
}

/** The refusal a failed start printed: exit code 1, one error line, nothing listening. */
function refusal(exit: GatewayExit): string {
  const lines = entries(exit.logLines);
  expect(exit.code, exit.logLines.join("\n")).toBe(1);
  expect(lines.map((line) => line.message)).not.toContain("listening");
  const errors = lines.filter((line) => line.level === "error");
  expect(errors).toHaveLength(1);
  return (errors[0] as { message: string }).message;
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

// Several real process starts per test; a loaded machine needs seconds for each.
const slow = { timeout: 90_000 };

describe("start-up", slow, () => {
  const running: GatewayProcess[] = [];
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((gw) => gw.stop("SIGKILL")));
    for (const server of servers.splice(0)) server.close();
  });

  async function start(options: Parameters<typeof startGateway>[0]): Promise<GatewayProcess> {
    const gw = await startGateway(options);
    running.push(gw);
    return gw;
  }

  it("a second gateway on one data dir exits 1 at once, naming the dir and the holder's PID", async () => {
    const dataDir = newDataDir();
    const first = await start({ dataDir, env: firstStart });
    const exit = await runGatewayUntilExit({ dataDir, env: firstStart });
    const message = refusal(exit);
    expect(message).toContain(`data directory ${dataDir} is in use`);
    expect(message).toContain(`pid ${first.child.pid}`);
    console.info(`second gateway refused after ${exit.ms} ms (process start included)`);
    expect(exit.ms).toBeLessThan(15_000);
    // The first one never noticed.
    expect((await signedFetch(first.url, "GET", `${api}/status`)).json).toMatchObject({
      status: "Running",
    });
  });

  it("after a SIGKILL of the holder, the next start takes the data dir with no hand cleanup", async () => {
    const dataDir = newDataDir();
    const first = await start({ dataDir, env: firstStart });
    const created = await signedFetch(first.url, "POST", `${api}/keys`, {
      body: JSON.stringify({ KeyUsage: "ENCRYPT_DECRYPT", Tags: { name: "survivor" } }),
    });
    expect(created.status).toBe(200);
    await first.stop("SIGKILL");
    // The dead holder's lock files are still there.
    expect(readdirSync(dataDir)).toContain(".kms-gateway.lock");
    const second = await start({ dataDir });
    expect((await signedFetch(second.url, "GET", `${api}/keys/survivor`)).status).toBe(200);
  });

  it("a second gateway whose key_dir another one holds exits 1, naming key_dir and PID", async () => {
    const keyDir = join(newDataDir(), "shared-keys");
    const env = { ...firstStart, RUSTFS_KMS_KEY_DIR: keyDir };
    const first = await start({ env });
    const message = refusal(await runGatewayUntilExit({ dataDir: newDataDir(), env }));
    expect(message).toContain(`key_dir ${keyDir} is in use`);
    expect(message).toContain(`pid ${first.child.pid}`);
  });

  it("reconfigure onto a key_dir another gateway holds is a 409 naming it; the same key_dir keeps working", async () => {
    const keyDir = join(newDataDir(), "held-keys");
    const holder = await start({ env: { ...firstStart, RUSTFS_KMS_KEY_DIR: keyDir } });
    const gw = await start({ env: firstStart });
    const moved = await signedFetch(gw.url, "POST", `${api}/reconfigure`, {
      body: JSON.stringify({ key_dir: keyDir }),
    });
    expect(moved.status).toBe(409);
    expect(moved.json).toMatchObject({ code: "Conflict" });
    expect((moved.json as { message: string }).message).toContain(`pid ${holder.child.pid}`);
    // A health-checked swap inside one process reopens its own key_dir.
    for (const ttl of [10, 20]) {
      const same = await signedFetch(gw.url, "POST", `${api}/reconfigure`, {
        body: JSON.stringify({ cache_ttl_seconds: ttl }),
      });
      expect(same.json).toMatchObject({ success: true, status: "Running" });
    }
  });

  it("narrows a pre-existing 0777 data dir to 0700 and says so; the key dir is 0700", async () => {
    const dataDir = newDataDir();
    chmodSync(dataDir, 0o777);
    const gw = await start({ dataDir, env: firstStart });
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(join(dataDir, "keys"))).toBe(0o700);
    const warning = entries(gw.logLines).find((line) => line.message.includes("narrowed"));
    expect(warning).toMatchObject({ level: "warn", was: "0777" });
  });

  it("refuses a data dir it cannot write, before listening, with one line", async () => {
    const parent = newDataDir();
    chmodSync(parent, 0o755);
    const dataDir = join(parent, "data");
    // Root may write anywhere, so the gateway runs as nobody when the tests run as root.
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    if (!("uid" in asNobody)) chmodSync(parent, 0o555);
    const exit = await runGatewayUntilExit({ dataDir, env: { HOME: "/tmp" }, ...asNobody });
    expect(refusal(exit)).toBe(
      `kms-gateway cannot start: cannot use data directory ${dataDir}: permission denied (EACCES)`,
    );
  });

  it.each([
    ["a file", (dir: string) => writeFileSync(join(dir, "data"), "x"), /is not a directory/],
    ["under /proc", () => undefined, /must not be under \/proc, \/sys, \/dev/],
  ])("refuses a data dir that is %s, at once, with one line", async (_, prepare, message) => {
    const parent = newDataDir();
    prepare(parent);
    const dataDir = _ === "a file" ? join(parent, "data") : "/proc/kms-gateway-data";
    const exit = await runGatewayUntilExit({ dataDir });
    expect(refusal(exit)).toMatch(message);
  });

  it("a port in use is one JSON line and exit 1, and writes no state file", async () => {
    const server = createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const dataDir = newDataDir();
    const exit = await runGatewayUntilExit({
      dataDir,
      args: ["--address", `127.0.0.1:${port}`],
      env: firstStart,
    });
    expect(refusal(exit)).toBe(
      `kms-gateway cannot start: address 127.0.0.1:${port} is already in use (EADDRINUSE)`,
    );
    expect(existsSync(join(dataDir, "kms-state.json"))).toBe(false);
    // Its lock went with it: the next start on the data dir is not refused.
    const gw = await start({ dataDir, env: firstStart });
    expect(existsSync(join(dataDir, "kms-state.json"))).toBe(true);
    await gw.stop("SIGTERM");
  });
});

describe("lifecycle deadlines", slow, () => {
  const running: GatewayProcess[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((gw) => gw.stop("SIGKILL")));
  });

  it("reconfigure onto /proc is a 400 at once; stop and SIGINT still complete", async () => {
    const gw = await startGateway({ env: firstStart });
    running.push(gw);
    for (const keyDir of [
      "/proc/nope",
      "/sys/nope",
      "/dev/nope",
      "relative/keys",
      "/tmp/../proc/x",
    ]) {
      const started = Date.now();
      const answer = await signedFetch(gw.url, "POST", `${api}/reconfigure`, {
        body: JSON.stringify({ key_dir: keyDir }),
      });
      expect(answer.status, keyDir).toBe(400);
      expect(answer.json).toMatchObject({ code: "InvalidRequest" });
      expect(Date.now() - started).toBeLessThan(5000);
    }
    const file = join(newDataDir(), "file");
    writeFileSync(file, "x");
    const notDir = await signedFetch(gw.url, "POST", `${api}/reconfigure`, {
      body: JSON.stringify({ key_dir: file }),
    });
    expect(notDir.status).toBe(400);
    expect((notDir.json as { message: string }).message).toContain("is not a directory");
    expect((await signedFetch(gw.url, "POST", `${api}/stop`)).status).toBe(200);
    const started = Date.now();
    expect(await gw.stop("SIGINT")).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("SIGTERM with a request stuck in flight exits within --drain-timeout-ms", async () => {
    const gw = await startGateway({ env: firstStart, args: ["--drain-timeout-ms", "300"] });
    running.push(gw);
    // A request whose body never ends stays in flight.
    const socket = connect(gw.port, "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    socket.write(
      `POST ${api}/keys HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":`,
    );
    socket.on("error", () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    const code = await gw.stop("SIGTERM");
    const ms = Date.now() - started;
    socket.destroy();
    console.info(`exited ${code} ${ms} ms after SIGTERM with a request in flight`);
    // The listener cuts the stuck request at the drain deadline, so close() completes.
    expect(code).toBe(0);
    // Well before the listener's own 10 s grace.
    expect(ms).toBeLessThan(300 + 1000 + 2000);
  });
});

describe("a data dir of one's own", slow, () => {
  it("creates a missing data dir and its parents with mode 0700", async () => {
    const dataDir = join(newDataDir(), "a", "b");
    const gw = await startGateway({ dataDir, env: firstStart });
    try {
      expect(mode(dataDir)).toBe(0o700);
      expect(mode(join(dataDir, ".."))).toBe(0o700);
    } finally {
      await gw.stop("SIGTERM");
    }
    // A clean stop removes the lock file.
    expect(readdirSync(dataDir)).not.toContain(".kms-gateway.lock");
  });
});
