import type { Socket } from "node:net";

/** http2Preface is the fixed sequence every HTTP/2 client sends first (RFC 9113, section 3.4). */
export const http2Preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** SniffedProtocol is what a cleartext connection speaks, judged from its first bytes. */
export type SniffedProtocol = "h2" | "http/1.1";

/**
 * sniffPreface reads a fresh cleartext socket until its bytes either match the
 * whole HTTP/2 client preface ("h2") or differ from it ("http/1.1"), puts every
 * byte read back with `unshift`, and calls `decide` with the socket paused, so
 * the server it is handed to sees the connection from its first byte. A socket
 * that closes, fails or stays undecided for `timeoutMs` is destroyed and
 * `decide` is never called. It returns a function that abandons the sniff and
 * destroys the socket (used on shutdown).
 */
export function sniffPreface(
  socket: Socket,
  timeoutMs: number,
  decide: (protocol: SniffedProtocol) => void,
): () => void {
  const chunks: Buffer[] = [];
  let matched = 0;
  let done = false;
  const timer = setTimeout(() => finish(undefined), timeoutMs);

  // Paused mode ('readable' + read()) rather than 'data': a 'data' listener
  // switches the socket to flowing mode, and bytes emitted after we detach it
  // would be lost before the next server attaches its own reader.
  const onReadable = () => {
    for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read()) {
      chunks.push(chunk);
      // Compare incrementally: a client may send the preface in several TCP
      // segments, but one wrong byte settles it at once.
      for (let i = 0; i < chunk.length && matched < http2Preface.length; i++, matched++) {
        if (chunk[i] !== http2Preface[matched]) return finish("http/1.1");
      }
      if (matched === http2Preface.length) return finish("h2");
    }
  };
  const onGone = () => finish(undefined);

  function finish(protocol: SniffedProtocol | undefined): void {
    if (done) return;
    done = true;
    clearTimeout(timer);
    socket.off("readable", onReadable);
    socket.off("end", onGone);
    socket.off("close", onGone);
    if (protocol === undefined) {
      socket.destroy();
      return;
    }
    socket.pause();
    socket.unshift(Buffer.concat(chunks));
    decide(protocol);
  }

  socket.on("readable", onReadable);
  socket.once("end", onGone);
  socket.once("close", onGone);
  return () => finish(undefined);
}
