import { constants, type ServerHttp2Session } from "node:http2";

/** SessionWatchdogOptions tune watchSession; the defaults suit the gateway. */
export interface SessionWatchdogOptions {
  /** A session with no open stream for this long is asked to go away (graceful GOAWAY). */
  idleTimeoutMs: number;
  /** After this long without a frame in or out, the session is probed with a PING (1 s). */
  probeAfterMs?: number;
  /**
   * A probe whose PING is neither acknowledged nor even written within this time kills
   * the session (500 ms). A healthy session writes a PING at once, so the round-trip time
   * of a distant client does not matter here.
   */
  ackTimeoutMs?: number;
  /**
   * Streams the peer may abort in a burst (1000) and per second after it (33) — the
   * rapid-reset limit of nghttp2, which the listener configures at twice these so that
   * the watchdog, which can act on it, always trips first.
   */
  resetBurst?: number;
  resetRatePerSecond?: number;
}

/**
 * watchSession destroys an HTTP/2 session soon after it has sent a GOAWAY with an
 * error code, as RFC 9113 §5.4.1 requires ("after sending the GOAWAY frame for an
 * error condition, the endpoint MUST close the TCP connection"), and closes idle
 * sessions gracefully.
 *
 * Node gives no event when nghttp2 itself ends a session for a protocol error or a
 * flood (rapid reset, bad frames): it sends the GOAWAY, stops reading, and leaves the
 * socket open until the idle timeout. Such a session never sends another frame, so a
 * PING submitted to it stays in its outbound queue. The watchdog probes a session
 * with a PING when it has been silent for `probeAfterMs`; a probe that is neither acknowledged nor
 * even sent within `ackTimeoutMs` means the session is dead, and its socket is destroyed.
 * A healthy idle session pays one PING round trip per `probeAfterMs`.
 *
 * A rapid reset (streams opened and reset by the peer, CVE-2023-44487) is seen directly:
 * past `resetBurst` streams closed with an error code (refilled at `resetRatePerSecond`) the session is
 * destroyed with a GOAWAY of ENHANCE_YOUR_CALM. (nghttp2's own limit would send a GOAWAY
 * and then keep the socket open, and would still answer PINGs, so the probe cannot see it.)
 */
export function watchSession(session: ServerHttp2Session, options: SessionWatchdogOptions): void {
  const probeAfterMs = Math.min(options.probeAfterMs ?? 1_000, options.idleTimeoutMs);
  const ackTimeoutMs = options.ackTimeoutMs ?? 500;
  let openStreams = 0;
  let lastStreamActivity = performance.now();
  let probing = false;
  let probeTimer: NodeJS.Timeout | undefined;
  const resetBurst = options.resetBurst ?? 1_000;
  const resetRate = options.resetRatePerSecond ?? 33;
  let resetTokens = resetBurst;
  let resetsCountedAt = performance.now();

  const done = () => {
    clearTimeout(probeTimer);
    probing = false;
  };
  session.once("close", done);
  let destroying = false;

  session.on("stream", (stream) => {
    lastStreamActivity = performance.now();
    // 'stream' is emitted on the next tick: a stream reset in the same read is already closed.
    if (stream.closed) {
      if (stream.rstCode !== undefined && stream.rstCode !== constants.NGHTTP2_NO_ERROR) {
        onReset();
      }
      return;
    }
    openStreams++;
    stream.once("close", () => {
      openStreams--;
      lastStreamActivity = performance.now();
      if (stream.rstCode !== undefined && stream.rstCode !== constants.NGHTTP2_NO_ERROR) {
        onReset();
      }
    });
  });

  // Node fires a session's timeout once per silence: re-arm it so that a long silence
  // is probed every `probeAfterMs`, and an idle session is eventually closed.
  const onSilence = () => {
    if (session.destroyed || session.closed) return;
    if (openStreams === 0 && performance.now() - lastStreamActivity >= options.idleTimeoutMs) {
      // close() sends a graceful GOAWAY and lets open streams finish.
      session.close();
      return;
    }
    probe();
    session.setTimeout(probeAfterMs, onSilence);
  };
  session.setTimeout(probeAfterMs, onSilence);

  function onReset(): void {
    const now = performance.now();
    resetTokens = Math.min(resetBurst, resetTokens + ((now - resetsCountedAt) / 1000) * resetRate);
    resetsCountedAt = now;
    resetTokens -= 1;
    if (resetTokens < 0 && !session.destroyed && !destroying) {
      destroying = true;
      // The error is emitted on the session; the listener's own handler ignores it.
      if (session.listenerCount("error") === 0) session.on("error", () => {});
      // Never from inside this callback: a stream's 'close' can run while nghttp2 is
      // still processing the frames of the same read, and destroying the session
      // there aborts the process (node_http2.cc CheckAllocatedSize, SIGABRT).
      setImmediate(() => {
        if (session.destroyed) return;
        session.destroy(
          new Error("too many streams reset by the peer"),
          constants.NGHTTP2_ENHANCE_YOUR_CALM,
        );
      });
    }
  }

  function probe(): void {
    if (probing || session.destroyed || session.closed) return;
    probing = true;
    let acked = false;
    try {
      session.ping((err) => {
        if (!err) acked = true;
      });
    } catch {
      // Too many pings in flight or a session on its way out: nothing to probe.
      probing = false;
      return;
    }
    probeTimer = setTimeout(() => {
      probing = false;
      if (acked || session.destroyed) return;
      // Not acknowledged, and not even written: nghttp2 has stopped sending for good.
      if (session.state.outboundQueueSize !== undefined && session.state.outboundQueueSize > 0) {
        session.destroy();
      }
    }, ackTimeoutMs);
    probeTimer.unref();
  }
}
