import { promises as fsp } from "node:fs";
import { dirname } from "node:path";
import type { PersistedState, StateStore } from "../../engine/backend.js";
import { KmsError } from "../../engine/errors.js";
import { writeFileAtomic } from "./write-file-atomic.js";

/** STATE_FILE_FORMAT_VERSION is the `formatVersion` of the state files this code writes. */
export const STATE_FILE_FORMAT_VERSION = 1;

// The state is a configuration; anything this large is not one of ours.
const MAX_STATE_FILE_BYTES = 1024 * 1024;

/**
 * createFileStateStore keeps the engine's PersistedState in the JSON file at
 * `path` (e.g. `<data-dir>/kms-state.json`): `{formatVersion, config, running,
 * generatedMasterKey}`. `save` writes it atomically and durably with mode 0600,
 * creating the parent directory with mode 0700 if it is missing (an existing one
 * is left as the operator made it). Saves run one after another in call order.
 * `load` resolves null when the file does not exist and rejects with
 * BACKEND_ERROR when it cannot be read or is not a state file.
 */
export function createFileStateStore(path: string): StateStore {
  let lastSave: Promise<void> = Promise.resolve();

  return {
    async load() {
      let text: string;
      try {
        const stats = await fsp.stat(path);
        if (stats.size > MAX_STATE_FILE_BYTES) throw new Error("state file is too large");
        text = await fsp.readFile(path, "utf8");
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw new KmsError("BACKEND_ERROR", `cannot read state file ${path}`, { cause });
      }
      return parseState(text, path);
    },

    save(state) {
      // Chained so that two overlapping saves land in call order, not rename order.
      const text = `${JSON.stringify(
        {
          formatVersion: STATE_FILE_FORMAT_VERSION,
          config: state.config,
          running: state.running,
          generatedMasterKey: state.generatedMasterKey,
        },
        null,
        2,
      )}\n`;
      const run = lastSave.then(async () => {
        try {
          await fsp.mkdir(dirname(path), { recursive: true, mode: 0o700 });
          await writeFileAtomic(path, text, { mode: 0o600 });
        } catch (cause) {
          throw new KmsError("BACKEND_ERROR", `cannot write state file ${path}`, { cause });
        }
      });
      lastSave = run.catch(() => undefined);
      return run;
    },
  };
}

function parseState(text: string, path: string): PersistedState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // V8's SyntaxError quotes the text around the error, which may be a secret.
    throw corrupt(path, "not valid JSON");
  }
  if (!isObject(raw)) throw corrupt(path, "not a JSON object");
  if (raw.formatVersion !== STATE_FILE_FORMAT_VERSION) {
    throw new KmsError("BACKEND_ERROR", `state file ${path} has an unsupported format version`);
  }
  if (typeof raw.running !== "boolean") throw corrupt(path, "running is not a boolean");
  const generatedMasterKey = raw.generatedMasterKey;
  if (generatedMasterKey !== null && typeof generatedMasterKey !== "string") {
    throw corrupt(path, "generatedMasterKey is invalid");
  }
  const config = raw.config;
  if (
    !isObject(config) ||
    !isObject(config.backend) ||
    (config.backend.backendType !== "local" && config.backend.backendType !== "vault")
  ) {
    throw corrupt(path, "config is invalid");
  }
  // Only the envelope is checked here; the engine owns the meaning of `config`.
  return {
    config: config as unknown as PersistedState["config"],
    running: raw.running,
    generatedMasterKey,
  };
}

function corrupt(path: string, why: string): KmsError {
  // `why` names a field, never its value: the file holds secrets.
  return new KmsError("BACKEND_ERROR", `state file ${path} is corrupt`, { cause: new Error(why) });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
