// `pooled report` on real artifacts: the HTML page is opened in headless Chromium and the screenshot is
// checked for chart pixels (histogram bars, percentile markers, sweep curves), and every chart PNG is decoded.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { parseProfileArgs } from '../../src/profile/options.js';
import { countPixelsNear, decodePng } from '../../src/profile/png.js';
import { findChromium, screenshot } from '../../src/profile/report/chromium.js';
import { makeReport } from '../../src/profile/report/make_report.js';
import { PALETTE } from '../../src/profile/report/svg_charts.js';
import { runProfile } from '../../src/profile/run_profile.js';
import { runReportCommand } from '../../src/cli/report.js';
import { startFakeEndpoint } from './profile_fake_endpoint.js';
import { skipUnless } from '../helpers/required_capability.js';

const scratch = mkdtempSync(join(tmpdir(), 'profile-report-'));
const artifactDir = join(scratch, 'sweep');
const chromium = findChromium();
after(() => rmSync(scratch, { recursive: true, force: true }));

before(async () => {
  // Latencies spread over 10..90 ms so the histogram has several bars; every 7th request gets a 503.
  const fake = await startFakeEndpoint({ behaviour: (n) => (n % 7 === 6 ? { kind: 'status', status: 503 } : { kind: 'ok', delayMs: 10 + ((n * 37) % 80) }) });
  try {
    const options = parseProfileArgs([
      '--model',
      'BAAI/bge-small-en-v1.5',
      '--url',
      fake.url,
      '--tokenizer',
      'test/fixtures/models/BAAI--bge-small-en-v1.5',
      '--concurrency',
      '1,4',
      '--request-count',
      '24',
      '--synthetic-input-tokens-mean',
      '16',
      '--artifact-dir',
      artifactDir,
      '--ui-type',
      'none',
    ])!;
    await runProfile(options, { out: { write: () => {} }, err: { write: () => {} } });
  } finally {
    await fake.close();
  }
});

test('without Chromium the HTML is still written and the PNGs are skipped with a reason', async () => {
  const report = await makeReport({
    artifactDir,
    htmlPath: join(scratch, 'no-chromium.html'),
    costPerHour: null,
    png: true,
    env: { POOLED_CHROMIUM: join(scratch, 'absent-chromium') },
  });
  assert.ok(existsSync(report.htmlPath));
  assert.deepEqual(report.pngFiles, []);
  assert.match(report.pngSkipped!, /no Chromium found/);
  const html = readFileSync(report.htmlPath, 'utf8');
  assert.equal((html.match(/<svg /g) ?? []).length, 9); // sweep chart + 4 per load point
});

test('the report command rejects bad arguments and unreadable folders with distinct exit codes', async () => {
  let stderr = '';
  const streams = { stdout: { write: () => true }, stderr: { write: (t: string) => (stderr += t) } };
  assert.equal(await runReportCommand([], streams), 2);
  assert.match(stderr, /expected one ARTIFACT_DIR/);
  assert.equal(await runReportCommand([artifactDir, '--cost-per-hour', 'free'], streams), 2);
  assert.equal(await runReportCommand([join(scratch, 'missing')], streams), 1);
  assert.match(stderr, /missing is not a folder/);
  let stdout = '';
  const written = await runReportCommand([artifactDir, '--no-png', '--output', join(scratch, 'cli.html')], {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: streams.stderr,
  });
  assert.equal(written, 0);
  assert.match(stdout, /Report: .*cli\.html/);
  assert.match(stderr, /PNG images skipped: disabled with --no-png/);
});

test('the HTML report renders its charts in headless Chromium, and each chart is exported as a PNG', {
  skip: skipUnless('chromium', chromium !== null, 'no Chromium found (POOLED_CHROMIUM, the usual paths, PATH)'),
}, async () => {
  const pngDir = join(scratch, 'charts');
  const report = await makeReport({ artifactDir, pngDir, costPerHour: 2.5, png: true });
  assert.equal(report.pngSkipped, null);
  assert.equal(report.pngFiles.length, 9);
  for (const file of report.pngFiles) {
    const image = decodePng(readFileSync(file));
    assert.deepEqual([image.width, image.height], [1440, 720], file); // 720x360 charts at 2x
  }
  const histogram = decodePng(readFileSync(join(pngDir, 'concurrency1-latency-distribution.png')));
  assert.ok(countPixelsNear(histogram, PALETTE.blue) > 20_000, 'histogram bars are drawn');
  const sweep = decodePng(readFileSync(join(pngDir, 'sweep-latency-vs-throughput.png')));
  for (const colour of [PALETTE.green, PALETTE.orange, PALETTE.red]) assert.ok(countPixelsNear(sweep, colour) > 300, `sweep curve ${colour}`);
  assert.match(readFileSync(report.htmlPath, 'utf8'), /Cost \/ 1M requests/);

  // The page itself, as a person opening it would see it.
  const shot = join(scratch, 'report.png');
  await screenshot(chromium!, { url: pathToFileURL(report.htmlPath).href, outFile: shot, width: 1500, height: 2200 });
  const page = decodePng(readFileSync(shot));
  assert.deepEqual([page.width, page.height], [1500, 2200]);
  assert.ok(countPixelsNear(page, PALETTE.blue) > 10_000, 'histogram bars and throughput lines are visible');
  assert.ok(countPixelsNear(page, PALETTE.green) > 300, 'p50 markers and sweep curve are visible');
  assert.ok(countPixelsNear(page, PALETTE.red) > 300, 'p99 and error series are visible');
  assert.ok(countPixelsNear(page, PALETTE.purple) > 300, 'token throughput chart is visible');
  if (process.env.PROFILE_REPORT_SCREENSHOT) {
    // For a person checking the rendering by eye: keep a copy outside the scratch folder.
    const { copyFileSync } = await import('node:fs');
    copyFileSync(shot, process.env.PROFILE_REPORT_SCREENSHOT);
  }
});
