/**
 * The error a call is refused with, when it is of the expected class; a call that succeeds, or
 * fails with anything else, fails the test with that outcome.
 */
export async function refusalOf<E extends Error>(
  call: Promise<unknown>,
  type: abstract new (...args: never[]) => E,
): Promise<E> {
  const outcome = await call.then(
    () => new Error('the call succeeded'),
    (e: unknown) => e,
  );
  if (!(outcome instanceof type)) throw outcome;
  return outcome;
}
