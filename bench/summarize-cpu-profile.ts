/** CpuProfile is the part of a V8 `.cpuprofile` (node --cpu-prof) the summary reads. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    hitCount?: number;
  }[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

/** SelfTime is one function's share of the samples it was on top of the stack for. */
export interface SelfTime {
  functionName: string;
  /** Shortened `file:line` (1-based; the file alone when V8 gives no line), or empty for V8 categories such as `(garbage collector)`. */
  location: string;
  selfMs: number;
  /** Share of the busy time (every sample but `(idle)`), in percent. */
  percent: number;
}

/** ProfileSummary is the heaviest functions and the busy and idle time they are part of. */
export interface ProfileSummary {
  top: SelfTime[];
  busyMs: number;
  idleMs: number;
}

/**
 * summarizeCpuProfile adds up self time per function (same name and
 * location, across the call tree) and returns the `top` heaviest, `(idle)`
 * left out of the ranking and the percentages. Time comes from the sample
 * time deltas; with `fromUs`, samples earlier than that many µs after the
 * profile's start (start-up, warm-up) are left out. A profile without samples
 * falls back to hit counts. Paths under node_modules keep the package and
 * file; project paths start at src/, gen/, etc.
 */
export function summarizeCpuProfile(
  profile: CpuProfile,
  top = 25,
  options: { fromUs?: number } = {},
): ProfileSummary {
  const selfUs = new Map<number, number>();
  if (profile.samples !== undefined && profile.timeDeltas !== undefined) {
    // Each sample's time is the delta to the next sample.
    let at = 0;
    for (let i = 0; i < profile.samples.length; i++) {
      at += profile.timeDeltas[i] ?? 0;
      if (at < (options.fromUs ?? 0)) continue;
      const id = profile.samples[i] as number;
      const delta = profile.timeDeltas[i + 1] ?? 0;
      selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, delta));
    }
  } else {
    const total = profile.nodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0);
    const perHit = total === 0 ? 0 : (profile.endTime - profile.startTime) / total;
    for (const n of profile.nodes) selfUs.set(n.id, (n.hitCount ?? 0) * perHit);
  }
  const byFunction = new Map<string, SelfTime>();
  let busyUs = 0;
  let idleUs = 0;
  for (const n of profile.nodes) {
    const us = selfUs.get(n.id) ?? 0;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === "(idle)") {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const file = url === "" ? "" : shortenUrl(url);
    const location = file === "" || lineNumber <= 0 ? file : `${file}:${lineNumber + 1}`;
    const name = functionName === "" ? "(anonymous)" : functionName;
    const key = `${name}\0${location}`;
    const entry = byFunction.get(key) ?? { functionName: name, location, selfMs: 0, percent: 0 };
    entry.selfMs += us / 1000;
    byFunction.set(key, entry);
  }
  return {
    top: [...byFunction.values()]
      .filter((e) => e.selfMs > 0)
      .map((e) => ({ ...e, percent: busyUs === 0 ? 0 : (e.selfMs * 1000 * 100) / busyUs }))
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top),
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
  };
}

/** shortenUrl keeps what identifies a file: `pkg/path` under node_modules, else from src/ or gen/ on. */
export function shortenUrl(url: string): string {
  const path = url.replace(/^file:\/\//, "");
  const nm = path.lastIndexOf("node_modules/");
  if (nm >= 0) return path.slice(nm + "node_modules/".length);
  const project = /\/((?:dist\/)?(?:src|gen|bench|tools)\/.*)$/.exec(path);
  return project?.[1] ?? path;
}
