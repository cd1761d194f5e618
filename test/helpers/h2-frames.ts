import net from "node:net";

// A tiny HTTP/2 frame writer and reader (RFC 9113 §4, §6) for attacks that
// node:http2's client refuses to produce: SETTINGS, PING and CONTINUATION
// floods, HEADERS without END_HEADERS, frames on stream 0 that must carry a
// stream. Header blocks use HPACK literals only (RFC 7541 §6.2.2, no
// Huffman), which every decoder must accept; responses are not decoded, only
// their frame types, flags and error codes are read.

/** frameType names the HTTP/2 frame types the suite writes or reads. */
export const frameType = {
  data: 0x0,
  headers: 0x1,
  rstStream: 0x3,
  settings: 0x4,
  ping: 0x6,
  goaway: 0x7,
  windowUpdate: 0x8,
  continuation: 0x9,
} as const;

/** frameFlag names the flags used here (END_STREAM, ACK, END_HEADERS). */
export const frameFlag = { endStream: 0x1, ack: 0x1, endHeaders: 0x4 } as const;

/** clientPreface is the fixed first bytes of every HTTP/2 connection (RFC 9113 §3.4). */
export const clientPreface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** frame encodes one frame: 24-bit length, type, flags, 31-bit stream id, payload. */
export function frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Uint8Array = Buffer.alloc(0),
): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head.writeUInt8(type, 3);
  head.writeUInt8(flags, 4);
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** settingsFrame encodes a SETTINGS frame from (identifier, value) pairs. */
export function settingsFrame(pairs: [number, number][] = []): Buffer {
  const payload = Buffer.alloc(6 * pairs.length);
  pairs.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, 6 * i);
    payload.writeUInt32BE(value, 6 * i + 2);
  });
  return frame(frameType.settings, 0, 0, payload);
}

/** connectionStart is the client preface and an empty SETTINGS frame: the start of every h2c connection. */
export const connectionStart = Buffer.concat([clientPreface, settingsFrame()]);

/**
 * minimalRequestHeaders is an HPACK block for `POST /` over http with
 * `:authority: a`, from the static table only, for floods where every byte counts.
 */
export const minimalRequestHeaders = Buffer.from([0x83, 0x86, 0x84, 0x41, 0x01, 0x61]);

/** goAwayCodes lists the error codes of the GOAWAY frames in bytes read from a server. */
export function goAwayCodes(bytes: Buffer): number[] {
  const codes: number[] = [];
  for (let at = 0; at + 9 <= bytes.length; ) {
    const length = bytes.readUIntBE(at, 3);
    if (bytes[at + 3] === frameType.goaway && at + 17 <= bytes.length) {
      codes.push(bytes.readUInt32BE(at + 13));
    }
    at += 9 + length;
  }
  return codes;
}

/** hpackInteger encodes an HPACK integer with an n-bit prefix (RFC 7541 §5.1). */
function hpackInteger(value: number, prefixBits: number, firstByte: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([firstByte | value]);
  const bytes = [firstByte | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** hpackString encodes a raw (not Huffman) HPACK string literal. */
function hpackString(value: string): Buffer {
  const bytes = Buffer.from(value, "latin1");
  return Buffer.concat([hpackInteger(bytes.length, 7, 0x00), bytes]);
}

/** headerBlock encodes header fields as HPACK "literal without indexing, new name". */
export function headerBlock(fields: [string, string][]): Buffer {
  return Buffer.concat(
    fields.flatMap(([name, value]) => [Buffer.from([0x00]), hpackString(name), hpackString(value)]),
  );
}

/** requestHeaders is a header block for a request to `path` on 127.0.0.1. */
export function requestHeaders(
  method: string,
  path: string,
  extra: [string, string][] = [],
): Buffer {
  return headerBlock([
    [":method", method],
    [":scheme", "http"],
    [":authority", "127.0.0.1"],
    [":path", path],
    ...extra,
  ]);
}

/** H2Frame is one frame read from the server. */
export interface H2Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** RawH2 is a raw HTTP/2 client connection: write frames, watch what comes back. */
export interface RawH2 {
  socket: net.Socket;
  /** Every frame read so far. */
  frames: H2Frame[];
  /** The error code of the server's first GOAWAY, when one came. */
  goawayCode(): number | undefined;
  /** Milliseconds since connect at which the first GOAWAY arrived, when one did. */
  goawayAtMs(): number | undefined;
  /** Resolves with the milliseconds since connect when the server closes or resets the socket. */
  closed: Promise<number>;
  /** write sends bytes unless the socket is gone; it reports whether it could. */
  write(bytes: Buffer): boolean;
}

/**
 * connectRawH2 opens a cleartext connection to 127.0.0.1:port, sends the
 * client preface and an empty SETTINGS frame, and parses every frame the
 * server sends (answering nothing by itself: the tests decide what to ACK).
 */
export function connectRawH2(port: number): Promise<RawH2> {
  const started = performance.now();
  const socket = net.connect({ host: "127.0.0.1", port });
  const frames: H2Frame[] = [];
  let pending = Buffer.alloc(0);
  let goaway: { code: number; atMs: number } | undefined;
  socket.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 9) {
      const length = pending.readUIntBE(0, 3);
      if (pending.length < 9 + length) break;
      const f: H2Frame = {
        type: pending.readUInt8(3),
        flags: pending.readUInt8(4),
        streamId: pending.readUInt32BE(5) & 0x7fffffff,
        payload: pending.subarray(9, 9 + length),
      };
      frames.push(f);
      if (f.type === frameType.goaway && goaway === undefined) {
        goaway = { code: f.payload.readUInt32BE(4), atMs: performance.now() - started };
      }
      pending = pending.subarray(9 + length);
    }
  });
  socket.on("error", () => {});
  const closed = new Promise<number>((resolve) =>
    socket.once("close", () => resolve(performance.now() - started)),
  );
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      socket.write(connectionStart);
      resolve({
        socket,
        frames,
        goawayCode: () => goaway?.code,
        goawayAtMs: () => goaway?.atMs,
        closed,
        write: (bytes) => !socket.destroyed && socket.write(bytes),
      });
    });
  });
}

/** h2ErrorCode names the RFC 9113 §7 error codes the suite expects. */
export const h2ErrorCode = {
  noError: 0x0,
  protocolError: 0x1,
  internalError: 0x2,
  flowControlError: 0x3,
  frameSizeError: 0x6,
  refusedStream: 0x7,
  cancel: 0x8,
  compressionError: 0x9,
  enhanceYourCalm: 0xb,
} as const;
