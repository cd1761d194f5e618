import {
  CreateKeyCommand,
  DecryptCommand,
  DisableKeyRotationCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GetKeyRotationStatusCommand,
  ListKeyRotationsCommand,
  NotFoundException,
  RotateKeyOnDemandCommand,
} from "@aws-sdk/client-kms";
import { describe, expect, it } from "vitest";
import { useGateway } from "../helpers/gateway-process.js";
import { expectAwsError } from "./expect-aws-error.js";
import { kmsClient } from "./kms-client.js";

// Rotation and data key sizes through AWS's own client: automatic rotation's setting
// (the background task itself is the engine's, tested there on an injected clock),
// rotation on demand with its history, and data keys of 1-1024 bytes.

const gw = useGateway();
const kms = () => kmsClient(gw.url);
const arn = (id: string) => `arn:aws:kms:us-east-1:000000000000:key/${id}`;
const DAY_MS = 86_400_000;

async function createKey(name: string): Promise<string> {
  const out = await kms().send(
    new CreateKeyCommand({ Tags: [{ TagKey: "name", TagValue: name }] }),
  );
  return out.KeyMetadata?.KeyId as string;
}

describe("key rotation", () => {
  it("EnableKeyRotation sets a period of 90-2560 days and the next date; DisableKeyRotation clears it", async () => {
    const id = await createKey("rot-auto");
    const off = await kms().send(new GetKeyRotationStatusCommand({ KeyId: id }));
    expect(off).toMatchObject({ KeyRotationEnabled: false, KeyId: arn(id) });
    expect(off.NextRotationDate).toBeUndefined();

    await kms().send(new EnableKeyRotationCommand({ KeyId: id, RotationPeriodInDays: 90 }));
    await expectAwsError(
      kms().send(new GetKeyRotationStatusCommand({ KeyId: "alias/none" })),
      NotFoundException,
    );
    const status = await kms().send(new GetKeyRotationStatusCommand({ KeyId: arn(id) }));
    expect(status).toMatchObject({ KeyRotationEnabled: true, RotationPeriodInDays: 90 });
    const days = ((status.NextRotationDate?.getTime() ?? 0) - Date.now()) / DAY_MS;
    expect(days).toBeGreaterThan(89.9);
    expect(days).toBeLessThan(90.1);

    await kms().send(new EnableKeyRotationCommand({ KeyId: id }));
    const defaulted = await kms().send(new GetKeyRotationStatusCommand({ KeyId: id }));
    expect(defaulted.RotationPeriodInDays).toBe(365);

    for (const RotationPeriodInDays of [89, 2561]) {
      await expectAwsError(
        kms().send(new EnableKeyRotationCommand({ KeyId: id, RotationPeriodInDays })),
        "ValidationException",
      );
    }
    await kms().send(new DisableKeyRotationCommand({ KeyId: id }));
    const disabled = await kms().send(new GetKeyRotationStatusCommand({ KeyId: id }));
    expect(disabled.KeyRotationEnabled).toBe(false);
    expect(disabled.NextRotationDate).toBeUndefined();
  });

  it("RotateKeyOnDemand makes a new version, listed by ListKeyRotations; old ciphertexts still decrypt", async () => {
    const id = await createKey("rot-demand");
    const before = await kms().send(
      new EncryptCommand({ KeyId: id, Plaintext: Buffer.from("v1") }),
    );
    const empty = await kms().send(new ListKeyRotationsCommand({ KeyId: id }));
    expect(empty.Rotations ?? []).toEqual([]);
    expect(empty.Truncated).toBe(false);

    for (let i = 0; i < 3; i++) {
      const out = await kms().send(new RotateKeyOnDemandCommand({ KeyId: id }));
      expect(out.KeyId).toBe(arn(id));
    }
    const seen: { RotationType?: string; RotationDate?: Date; KeyId?: string }[] = [];
    let Marker: string | undefined;
    let pages = 0;
    do {
      const page = await kms().send(new ListKeyRotationsCommand({ KeyId: id, Limit: 1, Marker }));
      pages++;
      seen.push(...(page.Rotations ?? []));
      Marker = page.Truncated ? page.NextMarker : undefined;
    } while (Marker !== undefined && pages < 10);
    expect(seen).toHaveLength(3);
    for (const r of seen) {
      expect(r).toMatchObject({ KeyId: id, RotationType: "ON_DEMAND" });
      expect(r.RotationDate).toBeInstanceOf(Date);
    }
    const dec = await kms().send(new DecryptCommand({ CiphertextBlob: before.CiphertextBlob }));
    expect(Buffer.from(dec.Plaintext ?? []).toString()).toBe("v1");
    await expectAwsError(
      kms().send(new ListKeyRotationsCommand({ KeyId: id, Limit: 0 })),
      "ValidationException",
    );
  });
});

describe("data key sizes", () => {
  it("NumberOfBytes 1-1024 makes a data key of that length, which decrypts to the same", async () => {
    const id = await createKey("sizes");
    for (const NumberOfBytes of [1, 17, 64, 1024]) {
      const out = await kms().send(new GenerateDataKeyCommand({ KeyId: id, NumberOfBytes }));
      expect(out.Plaintext?.byteLength).toBe(NumberOfBytes);
      const dec = await kms().send(new DecryptCommand({ CiphertextBlob: out.CiphertextBlob }));
      expect(Buffer.from(dec.Plaintext ?? [])).toEqual(Buffer.from(out.Plaintext ?? []));
    }
    const wrapped = await kms().send(
      new GenerateDataKeyWithoutPlaintextCommand({ KeyId: id, NumberOfBytes: 48 }),
    );
    const dec = await kms().send(new DecryptCommand({ CiphertextBlob: wrapped.CiphertextBlob }));
    expect(dec.Plaintext?.byteLength).toBe(48);
    await expectAwsError(
      kms().send(new GenerateDataKeyCommand({ KeyId: id, NumberOfBytes: 0 })),
      "ValidationException",
    );
  });
});
