import net from "node:net";

/** RawConnection is a TCP connection a test writes bytes to by hand and watches. */
export interface RawConnection {
  socket: net.Socket;
  /** Everything read so far. */
  received(): Buffer;
  /** Resolves when the server has closed the connection (or it failed). */
  closed: Promise<void>;
  /** Resolves once `text` has been read. */
  waitFor(text: string, timeoutMs: number): Promise<string>;
}

/** openRaw connects to 127.0.0.1:port and writes `first` (if any) at once. */
export async function openRaw(port: number, first?: Buffer | string): Promise<RawConnection> {
  const socket = net.connect(port, "127.0.0.1");
  socket.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  let data = Buffer.alloc(0);
  const waiters = new Set<() => void>();
  socket.on("data", (chunk: Buffer) => {
    data = Buffer.concat([data, chunk]);
    for (const wake of waiters) wake();
  });
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  void closed.then(() => {
    for (const wake of waiters) wake();
  });
  if (first !== undefined) socket.write(first);
  return {
    socket,
    received: () => data,
    closed,
    waitFor(text, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`"${text}" not received in ${timeoutMs} ms; got ${data.length} bytes`));
        }, timeoutMs);
        const check = () => {
          const seen = data.toString("latin1");
          if (seen.includes(text)) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(seen);
          } else if (socket.destroyed) {
            clearTimeout(timer);
            waiters.delete(check);
            reject(new Error(`connection closed before "${text}"; got: ${seen.slice(0, 200)}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** http2Frame encodes one HTTP/2 frame (RFC 9113 §4.1). */
export function http2Frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

/** The client preface and an empty SETTINGS frame: the start of every h2c connection. */
export const http2Start = Buffer.concat([
  Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"),
  http2Frame(4, 0, 0, Buffer.alloc(0)),
]);

/**
 * http2MinimalHeaders is an HPACK block for `POST /` over http with `:authority: a`,
 * from the static table, so raw frames can open streams without an encoder.
 */
export const http2MinimalHeaders = Buffer.from([0x83, 0x86, 0x84, 0x41, 0x01, 0x61]);

/** goAwayCodes lists the error codes of the GOAWAY frames in bytes read from a server. */
export function goAwayCodes(bytes: Buffer): number[] {
  const codes: number[] = [];
  for (let at = 0; at + 9 <= bytes.length; ) {
    const length = bytes.readUIntBE(at, 3);
    if (bytes[at + 3] === 7 && at + 17 <= bytes.length) codes.push(bytes.readUInt32BE(at + 13));
    at += 9 + length;
  }
  return codes;
}
