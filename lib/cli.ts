/**
 * Command-line flags for every script and benchmark, on `node:util` parseArgs: `--orders 10` and
 * `--orders=10` both work, `--help` prints what a script takes, and an unknown flag or a number that is not
 * one stops the script with a message that says what to do, instead of being ignored.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Kind = 'number' | 'string' | 'boolean';
export interface Flag<K extends Kind = Kind> {
  type: K;
  help: string;
  default?: K extends 'number' ? number : K extends 'boolean' ? boolean : string;
}
type ValueOf<F extends Flag> = F['type'] extends 'number' ? number : F['type'] extends 'boolean' ? boolean : string;
export type Flags<S extends Record<string, Flag>> = {
  [K in keyof S]: S[K]['default'] extends undefined ? ValueOf<S[K]> | undefined : ValueOf<S[K]>;
};

/** The script's flags, parsed from argv; exits with usage on --help, and with the reason on a bad flag. */
export function cliFlags<S extends Record<string, Flag>>(
  usage: string,
  spec: S,
  o: { positionals?: string; argv?: string[] } = {},
): Flags<S> & { positionals: string[] } {
  const help = () =>
    [
      `Usage: ${usage}`,
      ...Object.entries(spec).map(
        ([name, f]) =>
          `  --${name}${f.type === 'boolean' ? '' : ` <${f.type}>`}`.padEnd(28) +
          `${f.help}${f.default !== undefined && f.type !== 'boolean' ? ` (default ${f.default})` : ''}`,
      ),
      '  --help                    this text',
    ].join('\n');
  const fail = (message: string): never => {
    console.error(`${message}\nRun with --help to see the flags it takes.`);
    process.exit(2);
  };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: o.argv ?? process.argv.slice(2),
      allowPositionals: o.positionals !== undefined,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(
          Object.entries(spec).map(([name, f]) => [name, { type: f.type === 'boolean' ? 'boolean' : 'string' }]),
        ),
      } as ParseArgsConfig['options'],
    });
  } catch (err) {
    return fail((err as Error).message);
  }
  if (parsed.values.help) {
    console.log(help());
    process.exit(0);
  }
  const out: Record<string, unknown> = { positionals: parsed.positionals };
  for (const [name, f] of Object.entries(spec)) {
    const given = parsed.values[name];
    if (given === undefined) out[name] = f.default;
    else if (f.type === 'number') {
      const n = Number(given);
      if (given === '' || !Number.isFinite(n)) fail(`--${name} must be a number, not "${String(given)}"`);
      out[name] = n;
    } else out[name] = given;
  }
  return out as Flags<S> & { positionals: string[] };
}
