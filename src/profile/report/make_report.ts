// `pooled report`: artifacts in, report.html and chart PNGs out. PNGs need Chromium; without it the HTML is
// still written and the caller is told why the PNGs were skipped, since the page itself needs no browser
// features beyond inline SVG.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readArtifacts } from './artifact_reader.js';
import { findChromium } from './chromium.js';
import { exportChartPngs } from './png_export.js';
import { renderReport } from './report_html.js';

export interface MakeReportSettings {
  readonly artifactDir: string;
  /** report.html by default, inside the artifact folder. */
  readonly htmlPath?: string;
  /** charts/ inside the artifact folder by default. */
  readonly pngDir?: string;
  readonly costPerHour: number | null;
  readonly png: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

export interface MadeReport {
  readonly htmlPath: string;
  readonly pngFiles: readonly string[];
  /** Why no PNGs were written, or null when they were. */
  readonly pngSkipped: string | null;
}

export async function makeReport(settings: MakeReportSettings): Promise<MadeReport> {
  const artifacts = readArtifacts(settings.artifactDir);
  const report = renderReport(artifacts, { costPerHour: settings.costPerHour, generatedAt: new Date() });
  const htmlPath = settings.htmlPath ?? join(settings.artifactDir, 'report.html');
  mkdirSync(join(htmlPath, '..'), { recursive: true });
  writeFileSync(htmlPath, report.html);
  if (!settings.png) return { htmlPath, pngFiles: [], pngSkipped: 'disabled with --no-png' };
  const chromiumPath = findChromium(settings.env);
  if (!chromiumPath) {
    return { htmlPath, pngFiles: [], pngSkipped: 'no Chromium found (install the chromium package, or set POOLED_CHROMIUM to a Chrome/Chromium binary)' };
  }
  try {
    const pngFiles = await exportChartPngs(report.charts, settings.pngDir ?? join(settings.artifactDir, 'charts'), { chromiumPath });
    return { htmlPath, pngFiles, pngSkipped: null };
  } catch (error) {
    return { htmlPath, pngFiles: [], pngSkipped: `Chromium failed: ${(error as Error).message}` };
  }
}
