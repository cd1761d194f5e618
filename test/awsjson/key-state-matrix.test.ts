import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GetKeyRotationStatusCommand,
  type KMSClient,
  ListKeyRotationsCommand,
  ListResourceTagsCommand,
  ReEncryptCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateKeyDescriptionCommand,
} from "@aws-sdk/client-kms";
import { describe, expect, it } from "vitest";
import { useGateway } from "../helpers/gateway-process.js";
import { expectAwsError } from "./expect-aws-error.js";
import { kmsClient } from "./kms-client.js";

// The key-state matrix of the key-lifecycle issue, through the AWS KMS API: every
// key operation on a key that is Enabled, Disabled or PendingDeletion, asserting
// AWS's exception names (DisabledException when the key must be enabled and is
// disabled, KMSInvalidStateException otherwise) and the state afterwards.

const gw = useGateway();
const kms = () => kmsClient(gw.url);

type State = "Enabled" | "Disabled" | "PendingDeletion";
const STATES: State[] = ["Enabled", "Disabled", "PendingDeletion"];
type Outcome = { ok: State } | { error: "DisabledException" | "KMSInvalidStateException" };

const ok = (after: State): Outcome => ({ ok: after });
const DISABLED: Outcome = { error: "DisabledException" };
const INVALID: Outcome = { error: "KMSInvalidStateException" };
/** Changes that a key pending deletion refuses. */
const changes: Record<State, Outcome> = {
  Enabled: ok("Enabled"),
  Disabled: ok("Disabled"),
  PendingDeletion: INVALID,
};
/** Reads, which every state allows. */
const reads: Record<State, Outcome> = {
  Enabled: ok("Enabled"),
  Disabled: ok("Disabled"),
  PendingDeletion: ok("PendingDeletion"),
};
/** Uses of key material (and rotation settings), which need an Enabled key. */
const uses: Record<State, Outcome> = {
  Enabled: ok("Enabled"),
  Disabled: DISABLED,
  PendingDeletion: INVALID,
};

interface Operation {
  name: string;
  run(client: KMSClient, keyId: string, blob: Uint8Array): Promise<unknown>;
  outcomes: Record<State, Outcome>;
}

const operations: Operation[] = [
  {
    name: "DescribeKey",
    run: (c, KeyId) => c.send(new DescribeKeyCommand({ KeyId })),
    outcomes: {
      Enabled: ok("Enabled"),
      Disabled: ok("Disabled"),
      PendingDeletion: ok("PendingDeletion"),
    },
  },
  {
    name: "ListResourceTags",
    run: (c, KeyId) => c.send(new ListResourceTagsCommand({ KeyId })),
    outcomes: {
      Enabled: ok("Enabled"),
      Disabled: ok("Disabled"),
      PendingDeletion: ok("PendingDeletion"),
    },
  },
  {
    name: "ScheduleKeyDeletion",
    run: (c, KeyId) => c.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 })),
    outcomes: {
      Enabled: ok("PendingDeletion"),
      Disabled: ok("PendingDeletion"),
      PendingDeletion: INVALID,
    },
  },
  {
    name: "CancelKeyDeletion",
    run: (c, KeyId) => c.send(new CancelKeyDeletionCommand({ KeyId })),
    // The keys pending deletion here were Enabled before; the admin API's rule restores that.
    outcomes: { Enabled: INVALID, Disabled: INVALID, PendingDeletion: ok("Enabled") },
  },
  {
    name: "EnableKey",
    run: (c, KeyId) => c.send(new EnableKeyCommand({ KeyId })),
    outcomes: { Enabled: ok("Enabled"), Disabled: ok("Enabled"), PendingDeletion: INVALID },
  },
  {
    name: "DisableKey",
    run: (c, KeyId) => c.send(new DisableKeyCommand({ KeyId })),
    outcomes: { Enabled: ok("Disabled"), Disabled: ok("Disabled"), PendingDeletion: INVALID },
  },
  {
    name: "UpdateKeyDescription",
    run: (c, KeyId) => c.send(new UpdateKeyDescriptionCommand({ KeyId, Description: "new" })),
    outcomes: changes,
  },
  {
    name: "TagResource",
    run: (c, KeyId) =>
      c.send(new TagResourceCommand({ KeyId, Tags: [{ TagKey: "env", TagValue: "prod" }] })),
    outcomes: changes,
  },
  {
    name: "UntagResource",
    run: (c, KeyId) => c.send(new UntagResourceCommand({ KeyId, TagKeys: ["team"] })),
    outcomes: changes,
  },
  {
    name: "RotateKeyOnDemand",
    run: (c, KeyId) => c.send(new RotateKeyOnDemandCommand({ KeyId })),
    outcomes: uses,
  },
  {
    name: "EnableKeyRotation",
    run: (c, KeyId) => c.send(new EnableKeyRotationCommand({ KeyId, RotationPeriodInDays: 90 })),
    outcomes: uses,
  },
  {
    name: "DisableKeyRotation",
    run: (c, KeyId) => c.send(new DisableKeyRotationCommand({ KeyId })),
    outcomes: uses,
  },
  {
    name: "GetKeyRotationStatus",
    run: (c, KeyId) => c.send(new GetKeyRotationStatusCommand({ KeyId })),
    outcomes: reads,
  },
  {
    name: "ListKeyRotations",
    run: (c, KeyId) => c.send(new ListKeyRotationsCommand({ KeyId })),
    outcomes: reads,
  },
  {
    name: "CreateAlias",
    run: (c, TargetKeyId) =>
      c.send(new CreateAliasCommand({ AliasName: `alias/${TargetKeyId}`, TargetKeyId })),
    outcomes: changes,
  },
  {
    name: "Encrypt",
    run: (c, KeyId) => c.send(new EncryptCommand({ KeyId, Plaintext: Buffer.from("x") })),
    outcomes: uses,
  },
  {
    name: "Decrypt",
    run: (c, _id, CiphertextBlob) => c.send(new DecryptCommand({ CiphertextBlob })),
    outcomes: uses,
  },
  {
    name: "ReEncrypt",
    run: (c, KeyId, CiphertextBlob) =>
      c.send(new ReEncryptCommand({ CiphertextBlob, DestinationKeyId: KeyId })),
    outcomes: uses,
  },
  {
    name: "GenerateDataKey",
    run: (c, KeyId) => c.send(new GenerateDataKeyCommand({ KeyId, KeySpec: "AES_256" })),
    outcomes: uses,
  },
  {
    name: "GenerateDataKeyWithoutPlaintext",
    run: (c, KeyId) =>
      c.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId, NumberOfBytes: 16 })),
    outcomes: uses,
  },
];

let serial = 0;

/** keyIn creates a key with a ciphertext made while Enabled, then brings it to `state`. */
async function keyIn(state: State): Promise<{ keyId: string; blob: Uint8Array }> {
  const name = `matrix-${++serial}`;
  const client = kms();
  await client.send(
    new CreateKeyCommand({
      Tags: [
        { TagKey: "name", TagValue: name },
        { TagKey: "team", TagValue: "blue" },
      ],
    }),
  );
  const enc = await client.send(new EncryptCommand({ KeyId: name, Plaintext: Buffer.from("x") }));
  if (state === "Disabled") await client.send(new DisableKeyCommand({ KeyId: name }));
  if (state === "PendingDeletion") {
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: name, PendingWindowInDays: 7 }));
  }
  return { keyId: name, blob: enc.CiphertextBlob as Uint8Array };
}

describe("the key-state matrix through the AWS KMS API", () => {
  for (const op of operations) {
    for (const state of STATES) {
      const outcome = op.outcomes[state];
      const expected = "ok" in outcome ? `ok, then ${outcome.ok}` : outcome.error;
      it(`${op.name} on a ${state} key: ${expected}`, async () => {
        const { keyId, blob } = await keyIn(state);
        if ("error" in outcome) {
          const err = await expectAwsError(op.run(kms(), keyId, blob), outcome.error);
          expect(err.$metadata.httpStatusCode).toBe(400);
          // The refusal names the key's state (the engine's message, kept).
          expect(err.message).toContain(state);
        } else {
          await op.run(kms(), keyId, blob);
        }
        const after = await kms().send(new DescribeKeyCommand({ KeyId: keyId }));
        expect(after.KeyMetadata?.KeyState).toBe("ok" in outcome ? outcome.ok : state);
      });
    }
  }
});
