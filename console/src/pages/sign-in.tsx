/** Sign in once with an API key; the API answers with a session cookie and a CSRF token. */
import { useState } from 'preact/hooks';
import { api, problem, setCsrfToken } from '../api';
import type { Session } from '../session';

export function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string>();
  const submit = async (e: Event) => {
    e.preventDefault();
    const { data, error } = await api.POST('/v1/sessions', { body: { apiKey: key.trim() } });
    if (!data) return setError(problem(error));
    setCsrfToken(data.csrfToken);
    onSignedIn(data);
  };
  return (
    <main class="narrow">
      <h1>ERP console</h1>
      <form onSubmit={submit}>
        <label for="apiKey">API key</label>
        <input
          id="apiKey"
          type="password"
          autocomplete="off"
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
          required
        />
        <button type="submit">Sign in</button>
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
      </form>
      <p class="hint">The key's roles decide what you see. The session lasts a working day; sign out when done.</p>
    </main>
  );
}
