/**
 * percentile returns the nearest-rank percentile `p` (0–100) of sorted values,
 * or 0 for an empty list.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  // The epsilon keeps float error (0.999 × 1000 = 999.0000000000001) from skipping a rank.
  const rank = Math.ceil((p * sorted.length) / 100 - 1e-9);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}
