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
