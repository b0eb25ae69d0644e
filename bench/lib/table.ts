export interface Column {
  title: string;
  /** Numbers read best right-aligned; labels left (the default). */
  align?: 'left' | 'right';
}

/** Right-aligned columns, for figures. */
export function right(...titles: string[]): Column[] {
  return titles.map((title) => ({ title, align: 'right' }));
}

/** A markdown table whose cells are padded so it also reads aligned as plain text; a plain title is a left-aligned column. */
export function markdownTable(spec: readonly (Column | string)[], rows: readonly (readonly string[])[]): string {
  const columns = spec.map((column): Column => (typeof column === 'string' ? { title: column } : column));
  const widths = columns.map((column, i) => Math.max(3, column.title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const pad = (text: string, i: number) => (columns[i]?.align === 'right' ? text.padStart(widths[i]!) : text.padEnd(widths[i]!));
  const line = (cells: readonly string[]) => `| ${columns.map((_, i) => pad(cells[i] ?? '', i)).join(' | ')} |`;
  const rule = `| ${columns.map((column, i) => (column.align === 'right' ? `${'-'.repeat(widths[i]! - 1)}:` : '-'.repeat(widths[i]!))).join(' | ')} |`;
  return [line(columns.map((column) => column.title)), rule, ...rows.map(line)].join('\n');
}

/**
 * The targets a section checks, one a row: the target, its figures (`figures` names their columns: fleetcron's, and
 * node-cron's where it has one), and whether fleetcron met it (see verdict()).
 */
export function targetTable(issue: number, figures: readonly string[], rows: readonly (readonly string[])[]): string {
  return markdownTable([`target (issue ${issue})`, ...right(...figures), 'fleetcron'], rows);
}

/** What a section prints: its paragraphs and tables, a blank line apart. */
export function report(...blocks: string[]): string {
  return blocks.join('\n\n');
}
