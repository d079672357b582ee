/**
 * Fault injection for the drills: wraps a sandbox provider so its calls time
 * out before reaching it, time out after it acted (the answer is lost), or
 * answer slowly, at a given rate. Retries then meet the provider's own
 * idempotency: a lost answer must never become a second charge, transfer or
 * mail. Off unless SANDBOX_FAULT_RATE is set (never in production).
 */
export class InjectedFault extends Error {
  constructor(what: string, when: 'before' | 'after') {
    super(
      `injected fault: ${what} timed out ${when === 'before' ? 'before reaching the provider' : 'after the provider acted (answer lost)'}`,
    );
  }
}

export function withFaults<T extends object>(
  provider: T,
  name: string,
  rate: number,
  random: () => number = Math.random,
): T {
  if (rate <= 0) return provider;
  return new Proxy(provider, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const what = `${name}.${String(prop)}`;
        if (random() < rate / 3) throw new InjectedFault(what, 'before');
        if (random() < rate / 3) await new Promise((r) => setTimeout(r, 500 + random() * 1500)); // slow, but answers
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (random() < rate / 3) throw new InjectedFault(what, 'after');
        return result;
      };
    },
  });
}
