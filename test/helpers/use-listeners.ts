import { afterEach } from "vitest";
import { createListener, type Listener, type ListenerHandler } from "../../src/server/listener.js";

/** StartListener starts a listener on 127.0.0.1 port 0 with `handler` and any other options. */
export type StartListener = (
  handler: ListenerHandler,
  extra?: Partial<Parameters<typeof createListener>[0]>,
) => Promise<{ listener: Listener; port: number }>;

/**
 * useListeners registers, in the calling file, the close of every listener a
 * case started (100 ms grace) after that case, and returns the function that
 * starts them.
 */
export function useListeners(): StartListener {
  const listeners: Listener[] = [];
  afterEach(async () => {
    await Promise.all(listeners.splice(0).map((l) => l.close({ graceMs: 100 })));
  });
  return async (handler, extra = {}) => {
    const listener = createListener({ handler, ...extra });
    listeners.push(listener);
    const { port } = await listener.listen("127.0.0.1", 0);
    return { listener, port };
  };
}
