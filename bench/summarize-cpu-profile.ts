/** CpuProfile is the part of a V8 `.cpuprofile` (node --cpu-prof) the summary reads. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    hitCount?: number;
    children?: number[];
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
  /** Functions by self time. */
  top: SelfTime[];
  /** The project's own functions (src/) by inclusive time: themselves and what they call. */
  inclusive: SelfTime[];
  /** Self time per area: a project folder, a package, a node: module or a V8 category. */
  areas: { area: string; selfMs: number; percent: number }[];
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
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parents = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parents.set(child, n.id);
  const keyOf = new Map<number, string>();
  const functions = new Map<string, SelfTime & { totalMs: number }>();
  for (const n of profile.nodes) {
    const { functionName, url, lineNumber } = n.callFrame;
    const file = url === "" ? "" : shortenUrl(url);
    const location = file === "" || lineNumber <= 0 ? file : `${file}:${lineNumber + 1}`;
    const name = functionName === "" ? "(anonymous)" : functionName;
    const key = `${name}\0${location}`;
    keyOf.set(n.id, key);
    if (!functions.has(key)) {
      functions.set(key, { functionName: name, location, selfMs: 0, percent: 0, totalMs: 0 });
    }
  }
  let busyUs = 0;
  let idleUs = 0;
  const charge = (id: number, us: number, withStack: boolean) => {
    const node = nodes.get(id);
    if (node === undefined || us <= 0) return;
    if (node.callFrame.functionName === "(idle)") {
      idleUs += us;
      return;
    }
    busyUs += us;
    (functions.get(keyOf.get(id) as string) as SelfTime).selfMs += us / 1000;
    if (!withStack) return;
    // Inclusive time: once per function on the stack, however deep it recurses.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
      const key = keyOf.get(at) as string;
      if (seen.has(key)) continue;
      seen.add(key);
      (functions.get(key) as { totalMs: number }).totalMs += us / 1000;
    }
  };
  if (profile.samples !== undefined && profile.timeDeltas !== undefined) {
    // Each sample's time is the delta to the next sample.
    let at = 0;
    for (let i = 0; i < profile.samples.length; i++) {
      at += profile.timeDeltas[i] ?? 0;
      if (at < (options.fromUs ?? 0)) continue;
      charge(profile.samples[i] as number, profile.timeDeltas[i + 1] ?? 0, true);
    }
  } else {
    const total = profile.nodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0);
    const perHit = total === 0 ? 0 : (profile.endTime - profile.startTime) / total;
    for (const n of profile.nodes) charge(n.id, (n.hitCount ?? 0) * perHit, false);
  }
  const share = (ms: number) => (busyUs === 0 ? 0 : (ms * 1000 * 100) / busyUs);
  const all = [...functions.values()];
  const areas = new Map<string, number>();
  for (const f of all) areas.set(areaOf(f), (areas.get(areaOf(f)) ?? 0) + f.selfMs);
  // The `top` heaviest of `candidates` by `msOf`, reported under `selfMs` (SelfTime's field).
  const rank = (candidates: typeof all, msOf: (f: (typeof all)[number]) => number): SelfTime[] =>
    candidates
      .filter((f) => msOf(f) > 0)
      .sort((a, b) => msOf(b) - msOf(a))
      .slice(0, top)
      .map((f) => ({
        functionName: f.functionName,
        location: f.location,
        selfMs: msOf(f),
        percent: share(msOf(f)),
      }));
  return {
    top: rank(all, (f) => f.selfMs),
    inclusive: rank(
      all.filter((f) => /^(dist\/)?src\//.test(f.location)),
      (f) => f.totalMs,
    ),
    areas: [...areas]
      .filter(([, ms]) => ms > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([area, selfMs]) => ({ area, selfMs, percent: share(selfMs) })),
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
  };
}

/**
 * areaOf names where a function lives: the project folder (`src/auth`), the
 * package (`@connectrpc/connect`), the `node:internal/…` module, or the V8
 * category (`(garbage collector)`, `(program)`) or native function.
 */
export function areaOf(fn: { functionName: string; location: string }): string {
  const file = fn.location.replace(/:\d+$/, "");
  if (file === "") return fn.functionName.startsWith("(") ? fn.functionName : "(native)";
  const project = /^(?:dist\/)?((?:src|gen|bench|tools)\/[^/]+)\//.exec(file);
  if (project !== null) return project[1] as string;
  if (file.startsWith("node:")) return file.split("/").slice(0, 2).join("/");
  const pkg = /^(@[^/]+\/[^/]+|[^/]+)\//.exec(file);
  return pkg?.[1] ?? file;
}

/** shortenUrl keeps what identifies a file: `pkg/path` under node_modules, else from src/ or gen/ on. */
export function shortenUrl(url: string): string {
  const path = url.replace(/^file:\/\//, "");
  const nm = path.lastIndexOf("node_modules/");
  if (nm >= 0) return path.slice(nm + "node_modules/".length);
  const project = /\/((?:dist\/)?(?:src|gen|bench|tools)\/.*)$/.exec(path);
  return project?.[1] ?? path;
}
