import { randomBytes } from "node:crypto";
import { openEnvelope, parseEnvelope, sealEnvelope } from "../../src/engine/envelope.js";
import type { MicroBench } from "./micro-bench.js";

/**
 * envelopeMicro times wrapping a fresh 32-byte data key into the versioned
 * envelope and unwrapping it again, without an encryption context.
 */
export async function envelopeMicro(): Promise<MicroBench[]> {
  const material = randomBytes(32);
  const dataKey = randomBytes(32);
  const context = new Uint8Array(0);
  const blob = sealEnvelope(material, "bench-000000", 1, dataKey, context);
  return [
    {
      name: "envelope wrap (sealEnvelope, 32-byte key)",
      targetUs: 5,
      fn: () => sealEnvelope(material, "bench-000000", 1, dataKey, context),
    },
    {
      name: "envelope unwrap (parseEnvelope + openEnvelope)",
      fn: () => {
        const plain = openEnvelope(material, parseEnvelope(blob), context);
        if (plain.length !== 32) throw new Error("envelope micro-benchmark: wrong plaintext");
      },
    },
  ];
}
