import { KmsError } from "./errors.js";

/**
 * withDeadline settles like `work` if it settles within `ms`, else rejects
 * with BACKEND_ERROR "`what` did not finish within N s". JavaScript cannot
 * cancel the work itself, so `onLate` receives its value should it resolve
 * after the deadline: that is where a backend opened too late gets closed
 * instead of leaking. The timer never keeps the process alive.
 */
export function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  what: string,
  onLate?: (value: T) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(new KmsError("BACKEND_ERROR", `${what} did not finish within ${formatSeconds(ms)}`));
    }, ms);
    timer.unref();
    work.then(
      (value) => {
        clearTimeout(timer);
        if (late) onLate?.(value);
        else resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (!late) reject(error);
      },
    );
  });
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
