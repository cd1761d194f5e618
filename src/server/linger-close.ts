import type { Socket } from "node:net";

/** lingerMs is how long a closing HTTP/1.1 connection is held open after its answer. */
export const lingerMs = 2_000;

/**
 * lingerOnClose makes the HTTP/1.1 server close `socket` in two steps when a request
 * body was left unread (RFC 9112 §9.6): first the write side (our FIN after the
 * answer), then, `ms` later, the socket itself.
 *
 * Closing a socket whose receive buffer holds unread bytes makes the kernel send a
 * reset, and a client still writing its body then fails its write and loses the answer
 * it had not read yet (measured: 20 of 20 clients that paused reading for 300 ms while
 * sending 8 MiB lost their 401 this way). Node's HTTP server closes a
 * `Connection: close` socket through `destroySoon` once the answer is flushed; this
 * replaces that one method on this one socket.
 *
 * While it waits the socket is not read: the rest of the refused body stays in the
 * kernel's buffers and TCP flow control stalls the sender, so the wait costs neither
 * memory nor CPU. It ends early if the socket closes.
 */
export function lingerOnClose(socket: Socket, ms: number = lingerMs): void {
  socket.destroySoon = function lingeringDestroySoon(this: Socket): void {
    const timer = setTimeout(() => this.destroy(), ms);
    timer.unref();
    this.once("close", () => clearTimeout(timer));
    // Node's server resumes the socket to drain the unread request; keep it stopped.
    const stayPaused = () => this.pause();
    this.on("resume", stayPaused);
    this.once("close", () => this.off("resume", stayPaused));
    if (this.writable) this.end();
    this.pause();
  };
}
