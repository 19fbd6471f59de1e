/**
 * Maximum nesting of objects and arrays in a request body or fetched spec. Real specs nest a few
 * dozen levels. The limit keeps recursive steps such as `JSON.stringify` well inside the call stack,
 * which overflowed at 5,000 levels of nested objects in a check on Node 20.
 */
export const MAX_JSON_DEPTH = 256;

/** True when `value` nests objects or arrays deeper than `maxDepth`. Iterative, so any depth is safe to check. */
export function exceedsJsonDepth(value: unknown, maxDepth = MAX_JSON_DEPTH): boolean {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];

  while (pending.length > 0) {
    const { value: current, depth } = pending.pop()!;
    if (typeof current !== 'object' || current === null) {
      continue;
    }
    if (depth >= maxDepth) {
      return true;
    }
    for (const child of Object.values(current)) {
      pending.push({ value: child, depth: depth + 1 });
    }
  }
  return false;
}
