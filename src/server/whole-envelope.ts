/**
 * readWholeEnvelope reads a gRPC / gRPC-Web / Connect-streaming envelope (a
 * flags byte, a 4-byte big-endian length, then the data) when `bytes` is
 * exactly one whole envelope, and undefined otherwise (too short, or a length
 * prefix that does not match what is there).
 */
export function readWholeEnvelope(
  bytes: Uint8Array | undefined,
): { flags: number; data: Uint8Array } | undefined {
  if (bytes === undefined || bytes.byteLength < 5) return undefined;
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1);
  if (bytes.byteLength - 5 !== length) return undefined;
  return { flags: bytes[0] as number, data: bytes.subarray(5) };
}
