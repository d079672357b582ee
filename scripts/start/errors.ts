/** A start-up failure a person can act on: what went wrong, and what to do next. */
export class StartError extends Error {
  constructor(
    message: string,
    readonly nextStep: string,
  ) {
    super(message);
    this.name = 'StartError';
  }
}

/** The text of anything thrown (some libraries reject with undefined or a string). */
export function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (err === undefined || err === null) return 'an unknown error (nothing was thrown with it)';
  return String(err);
}
