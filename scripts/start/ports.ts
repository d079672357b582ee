/** Port probes for `npm start`'s preflight: is something already listening? */
import { waitForPort } from '../../lib/temporal-dev-server';
import { StartError } from './errors';

export function listening(host: string, port: number): Promise<boolean> {
  return waitForPort(host, port, 300).then(
    () => true,
    () => false,
  );
}

/** Refuses to go on when `port` is taken, naming the flag that chooses another. */
export async function requireFree(port: number, what: string, flag: string): Promise<void> {
  if (await listening('127.0.0.1', port)) {
    throw new StartError(
      `Port ${port} for ${what} is taken by another program.`,
      `Stop that program, or choose another port: \`npm start -- ${flag} ${port + 1}\`.`,
    );
  }
}
