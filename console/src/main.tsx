/** The operations console: sign in, then the pages the person's roles allow, each a bookmarkable URL under /console. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ErrorBoundary, lazy, LocationProvider, Route, Router } from 'preact-iso';
import { api, setCsrfToken } from './api';
import { Admin } from './pages/admin';
import { Customers } from './pages/customers';
import { Inbox } from './pages/inbox';
import { Ledger } from './pages/ledger';
import { Order, Orders } from './pages/order';
import { PurchaseOrder, PurchaseOrders } from './pages/purchasing';
import { Return, Returns } from './pages/returns';
import { Case, Queue } from './pages/queue';
import { SignIn } from './pages/sign-in';
import { Stock } from './pages/stock';
import { TicketPage, Tickets } from './pages/tickets';
import { may, SessionContext, type Session } from './session';
import './styles.css';

// The reports page carries the chart library: it is fetched when someone opens it, not on first load.
const Reports = lazy(() => import('./pages/reports'));

const PAGES = [
  { path: '/console/inbox', label: 'Approvals', roles: ['approver'] },
  { path: '/console/exceptions', label: 'Exceptions', roles: ['ops'] },
  { path: '/console/orders', label: 'Orders', roles: ['ops', 'storefront', 'warehouse', 'approver', 'finance'] },
  { path: '/console/returns', label: 'Returns', roles: ['warehouse', 'ops', 'approver', 'finance'] },
  {
    path: '/console/purchase-orders',
    label: 'Purchasing',
    roles: ['procurement', 'approver', 'finance', 'warehouse', 'ops'],
  },
  { path: '/console/stock', label: 'Stock', roles: ['ops', 'warehouse', 'procurement', 'finance', 'storefront'] },
  { path: '/console/customers', label: 'Customers', roles: ['ops'] },
  { path: '/console/tickets', label: 'Tickets', roles: ['ops'] },
  { path: '/console/reports', label: 'Reports', roles: ['ops'] },
  { path: '/console/ledger', label: 'Ledger', roles: ['finance'] },
  { path: '/console/admin', label: 'Admin', roles: ['admin'] },
];

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  useEffect(() => {
    void api.GET('/v1/sessions/current').then(({ data }) => {
      if (data?.via === 'session') setCsrfToken(data.csrfToken);
      setSession(data?.via === 'session' ? data : null);
    });
  }, []);
  if (session === undefined) return <p>Loading…</p>;
  if (!session) return <SignIn onSignedIn={setSession} />;
  const signOut = () => void api.DELETE('/v1/sessions/current').then(() => setSession(null));
  const pages = PAGES.filter((p) => may(session, ...p.roles));
  return (
    <SessionContext.Provider value={{ session, signOut }}>
      <LocationProvider>
        <header>
          <nav aria-label="Console">
            {pages.map((p) => (
              <a key={p.path} href={p.path}>
                {p.label}
              </a>
            ))}
          </nav>
          <span class="who">
            {session.name} ({session.roles.join(', ')})
          </span>
          <button class="secondary" onClick={signOut}>
            Sign out
          </button>
        </header>
        <ErrorBoundary>
          <Router>
            <Route path="/console/inbox" component={Inbox} />
            <Route path="/console/exceptions" component={Queue} />
            <Route path="/console/exceptions/:id" component={Case} />
            <Route path="/console/orders" component={Orders} />
            <Route path="/console/orders/:id" component={Order} />
            <Route path="/console/returns" component={Returns} />
            <Route path="/console/returns/:id" component={Return} />
            <Route path="/console/purchase-orders" component={PurchaseOrders} />
            <Route path="/console/purchase-orders/:id" component={PurchaseOrder} />
            <Route path="/console/stock" component={Stock} />
            <Route path="/console/customers" component={Customers} />
            <Route path="/console/tickets" component={Tickets} />
            <Route path="/console/tickets/:id" component={TicketPage} />
            <Route path="/console/reports" component={Reports} />
            <Route path="/console/ledger" component={Ledger} />
            <Route path="/console/admin" component={Admin} />
            <Route default component={() => <Home pages={pages} />} />
          </Router>
        </ErrorBoundary>
      </LocationProvider>
    </SessionContext.Provider>
  );
}

function Home({ pages }: { pages: typeof PAGES }) {
  return (
    <main>
      <h1>Console</h1>
      <ul>
        {pages.map((p) => (
          <li key={p.path}>
            <a href={p.path}>{p.label}</a>
          </li>
        ))}
      </ul>
    </main>
  );
}

render(<App />, document.getElementById('app')!);
