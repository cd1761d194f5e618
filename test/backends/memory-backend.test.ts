import { createMemoryBackend, createMemoryBackendStore } from "../helpers/memory-backend.js";
import { describeKeyBackendContract } from "./key-backend-contract.js";

// The engine tests stand on this double; it must keep the same contract as the real backends.
describeKeyBackendContract("memory (test double)", async () => {
  const backend = createMemoryBackend(createMemoryBackendStore());
  return { backend, cleanup: () => backend.close() };
});
