/**
 * Token buckets, one per API client: `ratePerSecond` tokens refill continuously up to `burst`; a request
 * takes one. In memory and per instance: with several instances a client's effective limit is the sum.
 *
 * @example
 * const limiter = createRateLimiter();
 * const wait = limiter.take("wallet-app", 500, 1000); // 0 if allowed, else seconds until a token is free
 */
export function createRateLimiter(now: () => number = Date.now): {
  take(client: string, ratePerSecond: number, burst: number): number;
} {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(client, ratePerSecond, burst) {
      const time = now();
      const bucket = buckets.get(client) ?? { tokens: burst, at: time };
      bucket.tokens = Math.min(burst, bucket.tokens + ((time - bucket.at) / 1000) * ratePerSecond);
      bucket.at = time;
      buckets.set(client, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return (1 - bucket.tokens) / ratePerSecond;
    },
  };
}
