/**
 * `operation`'s answer, or a rejection with `late()` once `ms` have passed; the operation is
 * left to end unheard (its own failure then goes nowhere).
 */
export function answerWithin<R>(operation: Promise<R>, ms: number, late: () => Error): Promise<R> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), ms);
  });
  operation.catch(() => undefined);
  return Promise.race([operation, timeout]).finally(() => clearTimeout(timer));
}
