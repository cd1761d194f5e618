/** LoadResult is what one timed load-generator run measured. */
export interface LoadResult {
  /** Requests completed (answered, whatever the status). */
  requests: number;
  /** Length of the timed window in seconds, as the load generator measured it. */
  seconds: number;
  requestsPerSecond: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  /** Connection, read, write and timeout errors plus answers with a status ≥ 400. */
  errors: number;
}
