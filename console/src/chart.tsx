/**
 * Charts for the reports page, drawn by Chart.js (only the pieces used are registered, so the bundle carries
 * bars and lines and nothing else). A canvas is a picture to a screen reader: each chart is a figure with a
 * text summary, and its numbers are in a table under it.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';
import { useEffect, useRef } from 'preact/hooks';

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Legend,
  Tooltip,
);

const COLOURS = ['#17324d', '#c0392b', '#2e7d32', '#8e6c00'];

export interface Series {
  label: string;
  values: (number | null)[];
}

export function ChartFigure({
  title,
  summary,
  kind,
  labels,
  series,
  horizontal = false,
  unit = '',
}: {
  title: string;
  summary: string;
  kind: 'bar' | 'line';
  labels: string[];
  series: Series[];
  horizontal?: boolean;
  unit?: string;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const config: ChartConfiguration<'bar' | 'line', (number | null)[], string> = {
      type: kind,
      data: {
        labels,
        datasets: series.map((s, i) => ({
          label: s.label,
          data: s.values,
          backgroundColor: COLOURS[i % COLOURS.length],
          borderColor: COLOURS[i % COLOURS.length],
        })),
      },
      options: {
        animation: false, // the numbers matter, not the motion; and screenshots show the final chart
        maintainAspectRatio: false,
        indexAxis: horizontal ? 'y' : 'x',
        plugins: { legend: { display: series.length > 1 } },
        scales: { [horizontal ? 'x' : 'y']: { beginAtZero: true } },
      },
    };
    const chart = new Chart(canvas.current!, config);
    return () => chart.destroy();
  }, [JSON.stringify({ labels, series, kind, horizontal })]);
  const id = title.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return (
    <figure aria-labelledby={`${id}-title`}>
      <figcaption id={`${id}-title`}>{title}</figcaption>
      <div class="chart">
        <canvas ref={canvas} role="img" aria-label={`${title}: ${summary}`} />
      </div>
      <details>
        <summary>{title}: the numbers</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">{horizontal ? 'Item' : 'Label'}</th>
              {series.map((s) => (
                <th key={s.label} scope="col">
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {labels.map((l, i) => (
              <tr key={l}>
                <th scope="row">{l}</th>
                {series.map((s) => (
                  <td key={s.label}>{s.values[i] === null ? '–' : `${s.values[i]}${unit}`}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
