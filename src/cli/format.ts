import type { TaskState } from '../coordination/records/backend.js';
import type { FireRecord } from '../coordination/records/fire-record.js';
import type { NextFire } from './next.js';

/** Left-aligned columns, two spaces apart, under a header. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function formatNext(expression: string, fires: readonly NextFire[]): string {
  if (fires.length === 0) return `${JSON.stringify(expression)} does not fire within 100 years`;
  return table(['UTC', `LOCAL (${fires[0]!.timezone})`], fires.map((fire) => [fire.instant, fire.local]));
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return minutes < 60 ? `${minutes} min ${seconds} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function durationOf(record: FireRecord, now: number): string {
  if (record.durationMs !== undefined) return formatDuration(record.durationMs);
  if (record.state === 'running') return `running for ${formatDuration(Math.max(0, now - (record.startedAt ?? record.claimedAt)))}`;
  return '-';
}

export function formatHistory(task: string, records: readonly FireRecord[], where: string, now = Date.now()): string {
  if (records.length === 0) return `no record of task '${task}' in ${where}`;
  const rows = records.map((record) => [
    new Date(record.slot).toISOString(),
    record.state,
    `${record.holder.host}/${record.holder.pid}`,
    durationOf(record, now),
    record.error ? `${record.error.name}: ${record.error.message}` : '',
  ]);
  return table(['SLOT', 'STATE', 'HOLDER (HOST/PID)', 'DURATION', 'ERROR'], rows);
}

/** What `state` knows of a task: the backend's state, and its latest record if it has one. */
export interface StateReport {
  task: string;
  paused: boolean;
  runs: number;
  latest: FireRecord | null;
}

export function stateReport(task: string, state: TaskState, latest: FireRecord | undefined): StateReport {
  return { task, paused: state.paused, runs: state.runs, latest: latest ?? null };
}

export function formatState(report: StateReport, where: string): string {
  const paused = `paused: ${report.paused ? 'yes' : 'no'}`;
  // The backend answers paused: false, runs: 0 for a task it has never seen; that is no record, not a count.
  if (report.latest === null && report.runs === 0) return `task '${report.task}': ${paused}; no record in ${where}`;
  const lines = [`task '${report.task}'`, paused, `runs: ${report.runs} (won claims across the fleet)`];
  const latest = report.latest;
  lines.push(latest === null ? 'latest fire: no record' : `latest fire: ${new Date(latest.slot).toISOString()} ${latest.state} on ${latest.holder.host}/${latest.holder.pid}`);
  return lines.join('\n');
}
