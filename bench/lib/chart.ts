// The bench's bar chart (bench/results/latest.svg): req/s of every server in the two warm throughput
// scenarios, from the same run as latest.md. Plain SVG, no dependency.
interface Row {
  rps: number;
  p99: number;
}

const xmlText = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function renderSvg(title: string, scenarios: Record<string, Record<string, Row>>): string {
  const width = 760;
  const labelWidth = 230;
  const barHeight = 18;
  const gap = 6;
  const lines: string[] = [];
  let y = 40;
  const max = Math.max(...Object.values(scenarios).flatMap((rows) => Object.values(rows).map((r) => r.rps)), 1);
  for (const [scenario, rows] of Object.entries(scenarios)) {
    lines.push(`<text x="10" y="${y}" font-weight="bold">${xmlText(scenario)} (req/s, p99 ms)</text>`);
    y += 10;
    for (const [server, row] of Object.entries(rows).sort((a, b) => b[1].rps - a[1].rps)) {
      const length = Math.max(1, Math.round(((width - labelWidth - 120) * row.rps) / max));
      const colour = server === 'cachegate' ? '#2b7bb9' : server.startsWith('cachegate') ? '#7fb3d5' : '#b0b0b0';
      lines.push(
        `<text x="${labelWidth - 8}" y="${y + 13}" text-anchor="end">${xmlText(server)}</text>`,
        `<rect x="${labelWidth}" y="${y}" width="${length}" height="${barHeight}" fill="${colour}"/>`,
        `<text x="${labelWidth + length + 6}" y="${y + 13}">${Math.round(row.rps)} · ${row.p99}</text>`,
      );
      y += barHeight + gap;
    }
    y += 24;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" font-family="sans-serif" font-size="12">`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${xmlText(title)}</text>`,
    ...lines,
    '</svg>',
    '',
  ].join('\n');
}
