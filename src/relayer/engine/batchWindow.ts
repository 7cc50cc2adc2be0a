/**
 * Whether a batch should go out now: when `maxItems` are waiting, or when the oldest waiting one has waited
 * `windowMs`. Otherwise, how long until the window closes (undefined when nothing waits).
 *
 * @example
 * batchDue({ count: 10, oldestAcceptedAt: now - 300 }, now, 400, 250); // { due: true }
 * batchDue({ count: 10, oldestAcceptedAt: now - 100 }, now, 400, 250); // { due: false, waitMs: 150 }
 */
export function batchDue(
  queue: { count: number; oldestAcceptedAt?: number },
  now: number,
  maxItems: number,
  windowMs: number,
): { due: true } | { due: false; waitMs?: number } {
  if (queue.count === 0 || queue.oldestAcceptedAt === undefined) return { due: false };
  if (queue.count >= maxItems) return { due: true };
  const waitMs = queue.oldestAcceptedAt + windowMs - now;
  return waitMs <= 0 ? { due: true } : { due: false, waitMs };
}
