/** Who is signed in, and what their roles let them see (the API still refuses the rest). */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

export interface Session {
  name: string;
  roles: string[];
  expiresAt: string;
}

export const SessionContext = createContext<{ session: Session; signOut: () => void } | null>(null);

export function useSession() {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in console');
  return s;
}

/** Whether the session's roles include one of `roles` (admin may do everything). */
export const may = (session: Session, ...roles: string[]) =>
  session.roles.includes('admin') || roles.some((r) => session.roles.includes(r));
