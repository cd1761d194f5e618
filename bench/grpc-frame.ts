/** grpcFrame prefixes a serialized message with gRPC's 5-byte frame header (uncompressed). */
export function grpcFrame(message: Uint8Array): Uint8Array {
  const frame = new Uint8Array(5 + message.length);
  new DataView(frame.buffer).setUint32(1, message.length);
  frame.set(message, 5);
  return frame;
}

/**
 * readGrpcFrames splits a gRPC body into its messages; it throws on a
 * compressed frame or a body that does not end on a frame boundary.
 */
export function readGrpcFrames(body: Uint8Array): Uint8Array[] {
  const messages: Uint8Array[] = [];
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let at = 0;
  while (at < body.length) {
    if (at + 5 > body.length) throw new Error("truncated gRPC frame header");
    if (body[at] !== 0) throw new Error("compressed gRPC frame");
    const length = view.getUint32(at + 1);
    if (at + 5 + length > body.length) throw new Error("truncated gRPC frame");
    messages.push(body.subarray(at + 5, at + 5 + length));
    at += 5 + length;
  }
  return messages;
}
