/** Bounds on a request's `variables`, like the document's own limits (api/graphql-limits.ts). */
export interface VariablesLimits {
  /** Nesting of objects and arrays; the variables object itself is level 1. */
  variablesDepth: number;
  /** Size as JSON, in bytes. */
  variablesBytes: number;
}

/**
 * Why `variables` is refused, or undefined when it is within the limits.
 * Iterative (no recursion), so 40,000 levels cost a walk, not a stack
 * overflow; the size is measured only once the depth is known to be small.
 */
export function variablesProblem(variables: unknown, limits: VariablesLimits): string | undefined {
  if (variables === null || typeof variables !== 'object') return undefined;
  const stack: Array<[unknown, number]> = [[variables, 1]];
  while (stack.length) {
    const [value, depth] = stack.pop()!;
    if (depth > limits.variablesDepth) return `variables are nested deeper than ${limits.variablesDepth} levels`;
    const children = Array.isArray(value) ? value : Object.values(value as object);
    for (const child of children) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  const bytes = Buffer.byteLength(JSON.stringify(variables));
  if (bytes > limits.variablesBytes) return `variables are larger than ${limits.variablesBytes} bytes (${bytes})`;
  return undefined;
}
