export interface Column {
  title: string;
  /** Numbers read best right-aligned; labels left (the default). */
  align?: 'left' | 'right';
}

/** A markdown table whose cells are padded so it also reads aligned as plain text. */
export function markdownTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((column, i) => Math.max(3, column.title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const pad = (text: string, i: number) => (columns[i]?.align === 'right' ? text.padStart(widths[i]!) : text.padEnd(widths[i]!));
  const line = (cells: readonly string[]) => `| ${columns.map((_, i) => pad(cells[i] ?? '', i)).join(' | ')} |`;
  const rule = `| ${columns.map((column, i) => (column.align === 'right' ? `${'-'.repeat(widths[i]! - 1)}:` : '-'.repeat(widths[i]!))).join(' | ')} |`;
  return [line(columns.map((column) => column.title)), rule, ...rows.map(line)].join('\n');
}
