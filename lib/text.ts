/**
 * What a text field refuses, checked at every edge where text comes in (the API's requests; a
 * marketplace's orders), before any schema or database sees it:
 *   - NUL (U+0000): Postgres cannot store it in text;
 *   - lone UTF-16 surrogates: not Unicode at all, and Postgres refuses them as UTF-8;
 *   - control characters other than tab, line feed and carriage return (C0, DEL, C1): they
 *     corrupt labels, CSV exports and terminals, and no person types them;
 *   - Unicode non-characters (U+FDD0–U+FDEF, U+xFFFE, U+xFFFF): reserved for internal use.
 * Bidirectional controls, joiners and long grapheme clusters are real text (Arabic and Hebrew
 * names, emoji families) and pass; single-line fields also refuse tab and line breaks (schemas.ts).
 */

const ASTRAL_NONCHARACTERS = Array.from(
  { length: 16 },
  (_, i) => `\\u{${(i + 1).toString(16)}fffe}\\u{${(i + 1).toString(16)}ffff}`,
).join('');
const UNSAFE = new RegExp(
  `[\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\ufdd0-\\ufdef\\ufffe\\uffff${ASTRAL_NONCHARACTERS}]|[\\ud800-\\udfff]`,
  'u',
);

const hex = (code: number) => `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;

/** Why `s` is refused, or undefined when it is acceptable text. */
export function unsafeText(s: string): string | undefined {
  const m = UNSAFE.exec(s);
  if (!m) return undefined;
  const code = m[0].codePointAt(0)!;
  if (code === 0) return 'contains a NUL byte (U+0000), which text cannot hold';
  if (code >= 0xd800 && code <= 0xdfff)
    return `contains a lone UTF-16 surrogate (${hex(code)}), which is not valid Unicode`;
  if (code < 0xa0) return `contains the control character ${hex(code)}; only tab and line breaks are allowed`;
  return `contains the Unicode non-character ${hex(code)}`;
}

export type TextIssue = { path: string; message: string };

/** Collects (up to 20) the fields of `value`, at any depth, that hold text we refuse. */
export function unsafeFields(value: unknown, path: string[] = [], issues: TextIssue[] = []): TextIssue[] {
  if (issues.length >= 20) return issues; // enough to fix the request
  if (typeof value === 'string') {
    const why = unsafeText(value);
    if (why) issues.push({ path: path.join('.'), message: why });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => unsafeFields(v, [...path, String(i)], issues));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const why = unsafeText(k);
      if (why) issues.push({ path: [...path, k].join('.'), message: `the field name ${why}` });
      unsafeFields(v, [...path, k], issues);
    }
  }
  return issues;
}
