/** The API's edge of lib/text.ts: a request holding text we refuse is a 400 naming every such field. */
import { unsafeFields } from '../lib/text';
import { badRequest } from './errors';

const PARTS = { body: 'request body', query: 'query string', path: 'path' } as const;

/** Throws 400 naming every field that holds text we refuse (paths as zod gives them: relative to the part named in the message). */
export function refuseUnsafeText(parts: Partial<Record<keyof typeof PARTS, unknown>>): void {
  for (const [where, value] of Object.entries(parts)) {
    const issues = unsafeFields(value);
    if (issues.length)
      throw badRequest(
        `The ${PARTS[where as keyof typeof PARTS]} holds text that cannot be accepted: ${issues[0].path || 'it'} ${issues[0].message}`,
        issues,
      );
  }
}
