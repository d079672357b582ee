/** Money in minor units and times, as people read them. */
export const money = (minor: number, currency = 'EUR') =>
  new Intl.NumberFormat('en-GB', { style: 'currency', currency }).format(minor / 100);

export const when = (t: string | Date | undefined) => (t ? new Date(t).toLocaleString('en-GB') : '–');

/** "due in 3 h 12 min" or "overdue by 20 min" against `now`. */
export function countdown(due: string | Date, now: number): string {
  const ms = new Date(due).getTime() - now;
  const mins = Math.round(Math.abs(ms) / 60_000);
  const text = mins >= 60 ? `${Math.floor(mins / 60)} h ${mins % 60} min` : `${mins} min`;
  return ms >= 0 ? `due in ${text}` : `overdue by ${text}`;
}
