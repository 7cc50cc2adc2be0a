import { classifyRpcError, isAmbiguous } from "./classifyRpcError.ts";

/**
 * Runs `read` again when it fails the way a flaky connection fails (timeout, dropped connection, HTTP error,
 * throttling), up to `attempts` times with a doubling pause; any other failure is thrown at once. For reads
 * only: a write that timed out must be looked up, never repeated blindly.
 *
 * @example
 * const chainId = await retryTransient(() => client.getChainId());
 */
export async function retryTransient<T>(
  read: () => Promise<T>,
  attempts = 6,
  firstPauseMs = 100,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      const errorClass = classifyRpcError(error);
      if (attempt >= attempts || !(isAmbiguous(errorClass) || errorClass === "rateLimited")) throw error;
      await new Promise((resolve) => setTimeout(resolve, firstPauseMs * 2 ** (attempt - 1)));
    }
  }
}
