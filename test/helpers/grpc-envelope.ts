/** GrpcEnvelopeOptions let a test write an envelope no honest client would. */
export interface GrpcEnvelopeOptions {
  /** The flag byte (bit 0: compressed); 0 by default. */
  flag?: number;
  /** The length the prefix declares, when it must lie; the message's own by default. */
  declaredLength?: number;
}

/**
 * grpcEnvelope frames one message as gRPC, gRPC-Web and Connect streaming do:
 * a flag byte, a 32-bit big-endian length, then the message bytes.
 */
export function grpcEnvelope(message: Uint8Array, options: GrpcEnvelopeOptions = {}): Buffer {
  const out = Buffer.alloc(5 + message.byteLength);
  out.writeUInt8(options.flag ?? 0, 0);
  out.writeUInt32BE(options.declaredLength ?? message.byteLength, 1);
  out.set(message, 5);
  return out;
}
