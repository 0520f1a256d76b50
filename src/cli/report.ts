// `pooled report ARTIFACT_DIR`: an offline HTML report with charts, plus PNG images of the charts.
// Exit codes: 0 report written (PNGs may have been skipped, which is said on stderr); 1 unreadable
// artifacts; 2 bad command line.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeReport } from '../profile/report/make_report.js';
import type { CommandStreams } from './profile.js';

export const REPORT_USAGE = `Usage: pooled report ARTIFACT_DIR [options]

Reads the artifacts of \`pooled profile\` (one run or a sweep) and writes an HTML report that opens offline,
plus PNG images of its charts (rendered with headless Chromium when it is installed).

  --output FILE          HTML path (default ARTIFACT_DIR/report.html)
  --png-dir DIR          where chart PNGs go (default ARTIFACT_DIR/charts)
  --no-png               skip the PNG images
  --cost-per-hour USD    hourly price of the server; adds cost per million requests and input tokens
  -h, --help
`;

export async function runReportCommand(argv: string[], streams: CommandStreams = process): Promise<number> {
  const { stdout, stderr } = streams;
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        output: { type: 'string' },
        'png-dir': { type: 'string' },
        'no-png': { type: 'boolean' },
        'cost-per-hour': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    stderr.write(`pooled report: ${(error as Error).message}\n\n${REPORT_USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    stdout.write(REPORT_USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    stderr.write(`pooled report: expected one ARTIFACT_DIR, got ${parsed.positionals.length}\n\n${REPORT_USAGE}`);
    return 2;
  }
  let costPerHour: number | null = null;
  if (parsed.values['cost-per-hour'] !== undefined) {
    costPerHour = Number(parsed.values['cost-per-hour']);
    if (!Number.isFinite(costPerHour) || costPerHour <= 0) {
      stderr.write(`pooled report: --cost-per-hour expects a positive number, got "${parsed.values['cost-per-hour']}"\n`);
      return 2;
    }
  }
  try {
    const report = await makeReport({
      artifactDir: parsed.positionals[0]!,
      htmlPath: parsed.values.output,
      pngDir: parsed.values['png-dir'],
      costPerHour,
      png: !parsed.values['no-png'],
      env: process.env,
    });
    stdout.write(`Report: ${report.htmlPath}\n`);
    if (report.pngSkipped) stderr.write(`PNG images skipped: ${report.pngSkipped}\n`);
    else stdout.write(`Charts: ${report.pngFiles.length} PNG files in ${report.pngFiles.length > 0 ? join(report.pngFiles[0]!, '..') : '-'}\n`);
    return 0;
  } catch (error) {
    stderr.write(`pooled report: ${(error as Error).message}\n`);
    return 1;
  }
}
