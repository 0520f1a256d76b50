// PNG files of the report's charts. All charts are laid out on one sheet page and captured with a single
// Chromium launch (one launch per chart would cost a second each), then cut apart with our own PNG codec.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { decodePng, encodeRgbPng, type DecodedImage } from '../png.js';
import { screenshot } from './chromium.js';
import type { Chart } from './svg_charts.js';

export interface PngExportSettings {
  readonly chromiumPath: string;
  /** Device pixels per CSS pixel; 2 gives sharp images on high-density screens and in documents. */
  readonly scale?: number;
}

function sheetHtml(charts: readonly Chart[], columns: number, cellWidth: number, cellHeight: number): string {
  const cells = charts
    .map((chart, i) => `<div style="position:absolute;left:${(i % columns) * cellWidth}px;top:${Math.floor(i / columns) * cellHeight}px">${chart.svg}</div>`)
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><style>html,body{margin:0;padding:0;background:#fff;overflow:hidden}svg{display:block}</style></head><body>${cells}</body></html>`;
}

function crop(image: DecodedImage, x: number, y: number, width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      const source = ((y + row) * image.width + (x + col)) * 4;
      const target = (row * width + col) * 3;
      rgb[target] = image.rgba[source]!;
      rgb[target + 1] = image.rgba[source + 1]!;
      rgb[target + 2] = image.rgba[source + 2]!;
    }
  }
  return rgb;
}

function isBlank(rgb: Uint8Array): boolean {
  for (let i = 0; i < rgb.length; i++) if (rgb[i]! < 200) return false;
  return true;
}

/** Writes `<outDir>/<chart id>.png` for every chart; returns the files written. */
export async function exportChartPngs(charts: readonly Chart[], outDir: string, settings: PngExportSettings): Promise<string[]> {
  if (charts.length === 0) return [];
  const scale = settings.scale ?? 2;
  const cellWidth = Math.max(...charts.map((c) => c.width));
  const cellHeight = Math.max(...charts.map((c) => c.height));
  const columns = Math.min(4, charts.length);
  const rows = Math.ceil(charts.length / columns);
  const workDir = mkdtempSync(join(tmpdir(), 'pooled-report-png-'));
  try {
    const sheetPath = join(workDir, 'sheet.html');
    const shotPath = join(workDir, 'sheet.png');
    writeFileSync(sheetPath, sheetHtml(charts, columns, cellWidth, cellHeight));
    await screenshot(settings.chromiumPath, {
      url: pathToFileURL(sheetPath).href,
      outFile: shotPath,
      width: columns * cellWidth,
      height: rows * cellHeight,
      scale,
    });
    const sheet = decodePng(readFileSync(shotPath));
    if (sheet.width < columns * cellWidth * scale || sheet.height < rows * cellHeight * scale) {
      throw new Error(`chromium produced a ${sheet.width}x${sheet.height} screenshot, expected ${columns * cellWidth * scale}x${rows * cellHeight * scale}`);
    }
    mkdirSync(outDir, { recursive: true });
    const written: string[] = [];
    charts.forEach((chart, i) => {
      const rgb = crop(sheet, (i % columns) * cellWidth * scale, Math.floor(i / columns) * cellHeight * scale, chart.width * scale, chart.height * scale);
      if (isBlank(rgb)) throw new Error(`chart ${chart.id} rendered blank`);
      const file = join(outDir, `${chart.id}.png`);
      writeFileSync(file, encodeRgbPng(chart.width * scale, chart.height * scale, rgb));
      written.push(file);
    });
    return written;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
